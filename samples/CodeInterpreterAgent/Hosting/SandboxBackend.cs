using Sandbox.Client;
using Sandbox.Server;

namespace CodeInterpreterAgent.Hosting;

/// <summary>Where the sandboxes come from: the embedded local server (default), another server, or hosted LangSmith.</summary>
internal sealed class SandboxBackend : IAsyncDisposable
{
    private readonly LocalSandboxServer? _server;

    private SandboxBackend(SandboxClient client, string description, LocalSandboxServer? server)
    {
        Client = client;
        Description = description;
        _server = server;
    }

    public SandboxClient Client { get; }

    /// <summary>What the sandboxes run on, for the screen (never the key).</summary>
    public string Description { get; }

    public bool IsEmbedded => _server is not null;

    /// <summary>Connects to <paramref name="endpoint"/>, to hosted LangSmith, or starts the embedded server.</summary>
    public static async Task<SandboxBackend> StartAsync(Uri? endpoint, string? apiKey, bool hosted, CancellationToken cancellationToken)
    {
        if (endpoint is not null)
        {
            var options = new SandboxClientOptions { Endpoint = endpoint, ApiKey = apiKey ?? SandboxClientOptions.FromEnvironment().ApiKey };
            return new SandboxBackend(new SandboxClient(options), $"sandbox server at {endpoint}", server: null);
        }

        if (hosted)
        {
            SandboxClientOptions options = SandboxClientOptions.FromEnvironment();
            if (apiKey is not null)
            {
                options.ApiKey = apiKey;
            }

            if (string.IsNullOrEmpty(options.ApiKey))
            {
                throw new InvalidOperationException("--hosted needs an API key: set LANGSMITH_API_KEY (and LANGSMITH_ENDPOINT for a self-hosted LangSmith).");
            }

            var client = new SandboxClient(options);
            return new SandboxBackend(client, $"hosted LangSmith sandboxes at {client.BaseUrl}", server: null);
        }

        LocalSandboxServer server = await LocalSandboxServer.StartAsync(null, cancellationToken);
        try
        {
            var client = new SandboxClient(new SandboxClientOptions { Endpoint = server.Endpoint, ApiKey = server.ApiKey });
            return new SandboxBackend(client, $"embedded local sandbox server at {server.Endpoint}", server);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
