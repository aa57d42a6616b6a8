using Sandbox.Server.Runtime;

namespace Sandbox.Server;

/// <summary>Process-wide facts of one server instance: its API key and data folder.</summary>
internal sealed class ServerState
{
    public ServerState(string apiKey, DataDirectory data, bool ownsDataDirectory)
    {
        ApiKey = apiKey;
        Data = data;
        OwnsDataDirectory = ownsDataDirectory;
    }

    /// <summary>The API key (never logged).</summary>
    public string ApiKey { get; }

    public DataDirectory Data { get; }

    public bool OwnsDataDirectory { get; }

    public override string ToString() => $"ServerState {{ Data = {Data.Root} }}";
}
