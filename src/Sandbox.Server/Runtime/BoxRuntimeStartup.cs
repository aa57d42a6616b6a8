using Sandbox.Server.Diagnostics;
using Sandbox.Server.Snapshots;

namespace Sandbox.Server.Runtime;

/// <summary>
/// The box runtime's start-up work, run once when the host starts (before the server accepts requests): loads the
/// snapshots, removes the cgroups of dead servers, sets up the box id range, loads the persisted boxes, deletes
/// leftover warm boxes, and starts filling the warm pool.
/// </summary>
internal sealed class BoxRuntimeStartup : IHostedService
{
    private readonly SnapshotStore _snapshots;
    private readonly HostCapabilities _host;
    private readonly CgroupController _cgroups;
    private readonly BoxStarter _starter;
    private readonly BoxRegistry _registry;
    private readonly WarmBoxPool _pool;
    private readonly ILogger _logger;

    public BoxRuntimeStartup(SnapshotStore snapshots, HostCapabilities host, CgroupController cgroups, BoxStarter starter, BoxRegistry registry,
        WarmBoxPool pool, ILoggerFactory loggers)
    {
        _snapshots = snapshots;
        _host = host;
        _cgroups = cgroups;
        _starter = starter;
        _registry = registry;
        _pool = pool;
        _logger = loggers.CreateLogger("Sandbox.Server");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _snapshots.Initialize();
        _starter.Initialize();
        Log.Limits(_logger, _host.Describe());
        int stale = _cgroups.RemoveStaleGroups(TimeSpan.FromMinutes(2));
        if (stale > 0)
        {
            Log.StaleGroupsRemoved(_logger, stale);
        }

        if (_host.IsolationUnavailableReason is { } reason)
        {
            Log.IsolationUnavailable(_logger, reason);
        }

        _registry.Load();
        _registry.RemoveLeftovers();
        _pool.Refill();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
