using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Tests.Common;

namespace Sandbox.AgentTools.Tests;

/// <summary>One embedded local server, client and pool shared by the integration tests (each test uses its own conversation).</summary>
public sealed class LocalServerFixture : EmbeddedServerFixture
{
    public SandboxLeasePool Pool { get; private set; } = null!;

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        Pool = new SandboxLeasePool(Client, new SandboxPoolOptions { MinIdle = 1, MaxBoxes = 16, AcquireTimeout = TimeSpan.FromSeconds(60) },
            TimeProvider.System, NullLoggerFactory.Instance);
    }

    public override async ValueTask DisposeAsync()
    {
        await Pool.DisposeAsync();
        await base.DisposeAsync();
    }
}
