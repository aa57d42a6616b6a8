using Sandbox.Client;
using Sandbox.Server;

namespace EvalHarness.Running;

/// <summary>Where the boxes come from: the embedded local server (default), another server, or hosted LangSmith.</summary>
internal sealed class HarnessBackend : IAsyncDisposable
{
    /// <summary>Processes per box on the embedded server: low, so a fork bomb hits the wall quickly.</summary>
    public const int EmbeddedPidsLimit = 256;

    private readonly LocalSandboxServer? _server;

    private HarnessBackend(SandboxClient client, string description, LocalSandboxServer? server)
    {
        Client = client;
        Description = description;
        _server = server;
    }

    public SandboxClient Client { get; }

    public string Description { get; }

    /// <summary>The boxes run on this machine (so the host itself can be checked for escapes).</summary>
    public bool IsEmbedded => _server is not null;

    /// <summary>Limits the embedded server cannot enforce on this host (empty for remote servers: they are trusted to).</summary>
    public IReadOnlyList<string> UnenforcedLimits => _server?.UnenforcedLimits ?? [];

    public static async Task<HarnessBackend> StartAsync(Uri? endpoint, string? apiKey, bool hosted, CancellationToken cancellationToken)
    {
        if (endpoint is not null)
        {
            var options = new SandboxClientOptions { Endpoint = endpoint, ApiKey = apiKey ?? SandboxClientOptions.FromEnvironment().ApiKey };
            return new HarnessBackend(new SandboxClient(options), $"sandbox server at {endpoint}", server: null);
        }

        if (hosted)
        {
            SandboxClientOptions options = SandboxClientOptions.FromEnvironment();
            options.ApiKey = apiKey ?? options.ApiKey;
            if (string.IsNullOrEmpty(options.ApiKey))
            {
                throw new InvalidOperationException("--hosted needs an API key: set LANGSMITH_API_KEY (and LANGSMITH_ENDPOINT for a self-hosted LangSmith).");
            }

            var client = new SandboxClient(options);
            return new HarnessBackend(client, $"hosted LangSmith sandboxes at {client.BaseUrl}", server: null);
        }

        LocalSandboxServer server = await LocalSandboxServer.StartAsync(
            new LocalSandboxServerOptions { Configure = o => o.PidsLimit = EmbeddedPidsLimit }, cancellationToken);
        var local = new SandboxClient(new SandboxClientOptions { Endpoint = server.Endpoint, ApiKey = server.ApiKey });
        return new HarnessBackend(local, $"embedded local sandbox server at {server.Endpoint}", server);
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
