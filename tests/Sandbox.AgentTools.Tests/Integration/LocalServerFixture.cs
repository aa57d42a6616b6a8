using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Client;
using Sandbox.Server;

namespace Sandbox.AgentTools.Tests;

/// <summary>One embedded local server, client and pool shared by the integration tests (each test uses its own conversation).</summary>
public sealed class LocalServerFixture : IAsyncLifetime
{
    public LocalSandboxServer Server { get; private set; } = null!;

    public SandboxClient Client { get; private set; } = null!;

    public SandboxLeasePool Pool { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await LocalSandboxServer.StartAsync(null, CancellationToken.None);
        Client = new SandboxClient(new SandboxClientOptions { Endpoint = Server.Endpoint, ApiKey = Server.ApiKey });
        Pool = new SandboxLeasePool(Client, new SandboxPoolOptions { MinIdle = 1, MaxBoxes = 16, AcquireTimeout = TimeSpan.FromSeconds(60) },
            TimeProvider.System, NullLoggerFactory.Instance);
    }

    public async Task DisposeAsync()
    {
        await Pool.DisposeAsync();
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
