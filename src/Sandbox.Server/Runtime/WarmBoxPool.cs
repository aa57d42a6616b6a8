using System.Collections.Concurrent;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;
using Sandbox.Server.Snapshots;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Keeps <see cref="SandboxServerOptions.WarmBoxes"/> boxes of the default snapshot started in the background and hands
/// one out to a create request that fits it (default snapshot, persistent, no capacity, no proxy), so such a create
/// does not wait for a box to start.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class WarmBoxPool
{
    private readonly ConcurrentQueue<Box> _spares = new();
    private readonly DataDirectory _data;
    private readonly SnapshotStore _snapshots;
    private readonly HostCapabilities _host;
    private readonly BoxStarter _starter;
    private readonly CgroupController _cgroups;
    private readonly BoxTeardown _teardown;
    private readonly SandboxServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _sparesStarting;
    private int _closed;

    public WarmBoxPool(DataDirectory data, SnapshotStore snapshots, HostCapabilities host, BoxStarter starter, CgroupController cgroups,
        BoxTeardown teardown, SandboxServerOptions options, TimeProvider time, ILogger logger)
    {
        _data = data;
        _snapshots = snapshots;
        _host = host;
        _starter = starter;
        _cgroups = cgroups;
        _teardown = teardown;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Starts warm boxes in the background until <see cref="SandboxServerOptions.WarmBoxes"/> are ready or starting.</summary>
    public void Refill()
    {
        if (_host.IsolationUnavailableReason is not null)
        {
            return;
        }

        while (Volatile.Read(ref _closed) == 0 && _spares.Count + Volatile.Read(ref _sparesStarting) < _options.WarmBoxes)
        {
            Interlocked.Increment(ref _sparesStarting);
            _ = Task.Run(async () =>
            {
                var now = _time.GetUtcNow();
                var box = new Box(new BoxRecord
                {
                    Id = Guid.NewGuid().ToString(),
                    SnapshotId = _snapshots.Default.Id,
                    CreatedAt = now,
                    UpdatedAt = now,
                    Vcpus = _options.DefaultVcpus,
                    MemBytes = _options.DefaultMemoryBytes,
                    IsSpare = true,
                }, _time);
                try
                {
                    await _starter.StartAsync(box, CancellationToken.None).ConfigureAwait(false);
                    if (box.Running is { HasExited: false } && Volatile.Read(ref _closed) == 0)
                    {
                        _spares.Enqueue(box);
                        return;
                    }
                }
                catch (Exception e) when (e is DomainException or IOException or InvalidOperationException)
                {
                    Log.SweepFailed(_logger, box.Id, e);
                }
                finally
                {
                    Interlocked.Decrement(ref _sparesStarting);
                }

                Discard(box);
            });
        }
    }

    /// <summary>Hands out a warm box for <paramref name="wanted"/> if one fits; call under the names lock.</summary>
    public Box? TryTake(SnapshotRecord snapshot, BoxRecord wanted)
    {
        if (snapshot.Id != _snapshots.Default.Id || wanted.FsCapacityBytes is not null || wanted.ProxyConfig is not null || !wanted.Persistent)
        {
            return null;
        }

        while (_spares.TryDequeue(out var spare))
        {
            if (spare.Running is not { HasExited: false }
                || ((wanted.MemBytes != spare.Record.MemBytes || wanted.Vcpus != spare.Record.Vcpus)
                    && !_cgroups.UpdateLimits(spare.Id, _host.Memory ? wanted.MemBytes : null, _host.Cpu ? wanted.Vcpus : null)))
            {
                Discard(spare);
                continue;
            }

            var r = spare.Record;
            r.Name = wanted.Name;
            r.CreatedAt = wanted.CreatedAt;
            r.UpdatedAt = wanted.UpdatedAt;
            r.IdleTtlSeconds = wanted.IdleTtlSeconds;
            r.DeleteAfterStopSeconds = wanted.DeleteAfterStopSeconds;
            r.Vcpus = wanted.Vcpus;
            r.MemBytes = wanted.MemBytes;
            r.Labels = wanted.Labels;
            r.RunConfig = wanted.RunConfig;
            r.AccessDelegation = wanted.AccessDelegation;
            r.UnenforcedLimits = wanted.UnenforcedLimits;
            r.StatusMessage = wanted.UnenforcedLimits.Count > 0 ? "Running; limits not enforced on this host: " + string.Join(", ", wanted.UnenforcedLimits) : null;
            r.IsSpare = false;
            spare.Touch(_time);
            Refill();
            return spare;
        }

        Refill();
        return null;
    }

    /// <summary>Stops refilling and discards every warm box (server shutdown).</summary>
    public void Close()
    {
        Volatile.Write(ref _closed, 1);
        while (_spares.TryDequeue(out var spare))
        {
            Discard(spare);
        }
    }

    private void Discard(Box box)
    {
        box.Deleted = true;
        var running = box.Running;
        box.Running = null;
        running?.Kill();
        _teardown.Enqueue(box.Id, running, _data.BoxDirectory(box.Id));
    }
}
