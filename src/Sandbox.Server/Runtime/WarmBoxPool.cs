using System.Collections.Concurrent;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;
using Sandbox.Server.Snapshots;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Keeps boxes of the default snapshot started in the background and hands one out to a create request that fits it
/// (default snapshot, persistent, no capacity, no proxy), so such a create does not wait for a box to start. How many
/// is <see cref="WarmPoolSizer"/>'s call: at least <see cref="SandboxServerOptions.WarmBoxes"/>, more after recent
/// demand (up to <see cref="SandboxServerOptions.WarmBoxesMax"/>), shrinking slowly once the demand is over. At most
/// <see cref="SandboxServerOptions.WarmBoxesStartConcurrency"/> warm boxes start at once, and none while the host is
/// short of memory.
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
    private readonly WarmPoolSizer _sizer;
    private readonly SemaphoreSlim _startSlots;
    private readonly Lock _timerGate = new();
    private ITimer? _shrinkTimer;
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
        _sizer = new WarmPoolSizer(options, time);
        int concurrency = Math.Max(1, options.WarmBoxesStartConcurrency);
        _startSlots = new SemaphoreSlim(concurrency, concurrency);
    }

    /// <summary>Warm boxes ready to be handed out.</summary>
    public int Ready => _spares.Count;

    /// <summary>Ids of the warm boxes ready to be handed out.</summary>
    public IReadOnlyList<string> ReadyIds => [.. _spares.Select(b => b.Id)];

    /// <summary>Warm boxes starting or waiting to start.</summary>
    public int Starting => Volatile.Read(ref _sparesStarting);

    /// <summary>How many warm boxes the pool wants now (ready or starting).</summary>
    public int Target => _sizer.Target();

    /// <summary>Starts warm boxes in the background until the target number are ready or starting.</summary>
    public void Refill()
    {
        if (_host.IsolationUnavailableReason is not null || _sizer.Min == 0 || Volatile.Read(ref _closed) != 0)
        {
            return;
        }

        EnsureShrinkTimer();
        int target = _sizer.Target();
        if (_spares.Count + Volatile.Read(ref _sparesStarting) >= target || !HostMemoryAllowsAnother())
        {
            return;
        }

        while (Volatile.Read(ref _closed) == 0 && _spares.Count + Volatile.Read(ref _sparesStarting) < target)
        {
            Interlocked.Increment(ref _sparesStarting);
            _ = Task.Run(StartSpareAsync);
        }
    }

    private async Task StartSpareAsync()
    {
        Box? box = null;
        bool slot = false;
        try
        {
            await _startSlots.WaitAsync().ConfigureAwait(false);
            slot = true;
            if (Volatile.Read(ref _closed) != 0)
            {
                return;
            }

            var now = _time.GetUtcNow();
            box = new Box(new BoxRecord
            {
                Id = Guid.NewGuid().ToString(),
                SnapshotId = _snapshots.Default.Id,
                CreatedAt = now,
                UpdatedAt = now,
                Vcpus = _options.DefaultVcpus,
                MemBytes = _options.DefaultMemoryBytes,
                IsSpare = true,
            }, _time);
            long started = _time.GetTimestamp();
            await _starter.StartAsync(box, CancellationToken.None).ConfigureAwait(false);
            if (box.Running is { HasExited: false } && Volatile.Read(ref _closed) == 0)
            {
                _sizer.RecordStart(_time.GetElapsedTime(started));
                _spares.Enqueue(box);
                return;
            }
        }
        catch (Exception e) when (e is DomainException or IOException or InvalidOperationException)
        {
            Log.SweepFailed(_logger, box?.Id ?? "(warm box)", e);
        }
        finally
        {
            if (slot)
            {
                _startSlots.Release();
            }

            Interlocked.Decrement(ref _sparesStarting);
        }

        if (box is not null)
        {
            Discard(box);
        }
    }

    /// <summary>
    /// Gives up one ready warm box when the pool holds more than recent demand asks for (one per shrink interval), and
    /// refills when it holds fewer (say once the host has memory again).
    /// </summary>
    internal void OnTick()
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            return;
        }

        if (_sizer.TryClaimShrink(_spares.Count + Volatile.Read(ref _sparesStarting)) && _spares.TryDequeue(out var extra))
        {
            Discard(extra);
            return;
        }

        Refill();
    }

    private void EnsureShrinkTimer()
    {
        if (_shrinkTimer is not null)
        {
            return;
        }

        lock (_timerGate)
        {
            if (_shrinkTimer is null && Volatile.Read(ref _closed) == 0)
            {
                var period = _options.WarmBoxesShrinkInterval > TimeSpan.Zero ? _options.WarmBoxesShrinkInterval : TimeSpan.FromSeconds(1);
                _shrinkTimer = _time.CreateTimer(static state => ((WarmBoxPool)state!).OnTick(), this, period, period);
            }
        }
    }

    /// <summary>
    /// False while the host has less than a tenth of its memory (at least 512 MiB) available: warm boxes are a luxury
    /// and a create call can still start its own box.
    /// </summary>
    private static bool HostMemoryAllowsAnother()
    {
        long total = 0, available = -1;
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    total = MeminfoKb(line);
                }
                else if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    available = MeminfoKb(line);
                    break;
                }
            }
        }
        catch (IOException)
        {
            return true;
        }

        return available < 0 || available >= Math.Max(512L * 1024, total / 10);
    }

    private static long MeminfoKb(string line)
    {
        var value = line.AsSpan(line.IndexOf(':') + 1).Trim();
        int space = value.IndexOf(' ');
        return long.TryParse(space < 0 ? value : value[..space], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long kb) ? kb : 0;
    }

    /// <summary>Hands out a warm box for <paramref name="wanted"/> if one fits; call under the names lock.</summary>
    public Box? TryTake(SnapshotRecord snapshot, BoxRecord wanted)
    {
        if (_sizer.Min == 0 || snapshot.Id != _snapshots.Default.Id || wanted.FsCapacityBytes is not null || wanted.ProxyConfig is not null || !wanted.Persistent)
        {
            return null;
        }

        _sizer.RecordDemand();

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
        lock (_timerGate)
        {
            _shrinkTimer?.Dispose();
        }

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
