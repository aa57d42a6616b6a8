using Sandbox.Protocol;

namespace Sandbox.Server.Runtime;

/// <summary>
/// One box (sandbox): its persisted record, and while started, its <see cref="RunningBox"/>.
/// Lifecycle changes happen under <see cref="Lock"/>; reads of the record are snapshots.
/// </summary>
internal sealed class Box
{
    private long _lastActivityTicks;

    public Box(BoxRecord record, TimeProvider time)
    {
        Record = record;
        _lastActivityTicks = time.GetUtcNow().UtcTicks;
    }

    public BoxRecord Record { get; }

    public string Id => Record.Id;

    public string Name => Record.Name;

    /// <summary>Serialises start, stop, update and delete of this box.</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    /// <summary>The started box, or null while stopped/failed/provisioning.</summary>
    public RunningBox? Running { get; set; }

    /// <summary>The pending start of a box created with wait_for_ready=false (or being resumed).</summary>
    public Task? Starting { get; set; }

    public bool Deleted { get; set; }

    /// <summary>Environment contributed by <see cref="IBoxStartContributor"/>s at the last start.</summary>
    public IReadOnlyDictionary<string, string> ContributedEnvironment { get; set; } = new Dictionary<string, string>();

    /// <summary>Path of the running box's network namespace (<c>/proc/&lt;init pid&gt;/ns/net</c>); null when not running.</summary>
    internal string? NetworkNamespacePath => Running?.NetworkNamespacePath;

    public DateTimeOffset LastActivity => new(Interlocked.Read(ref _lastActivityTicks), TimeSpan.Zero);

    /// <summary>Resets the idle timer (command execution, file I/O).</summary>
    public void Touch(TimeProvider time) => Interlocked.Exchange(ref _lastActivityTicks, time.GetUtcNow().UtcTicks);

    public SandboxInfo ToInfo(string? dataplaneBase)
    {
        var r = Record;
        return new SandboxInfo
        {
            Id = r.Id,
            Name = r.Name,
            DataplaneUrl = dataplaneBase is null ? null : $"{dataplaneBase}/dp/{r.Id}",
            Status = r.Status,
            StatusMessage = r.StatusMessage,
            CreatedAt = Timestamps.Format(r.CreatedAt),
            UpdatedAt = Timestamps.Format(r.UpdatedAt),
            StoppedAt = Timestamps.Format(r.StoppedAt),
            IdleTtlSeconds = r.IdleTtlSeconds,
            DeleteAfterStopSeconds = r.DeleteAfterStopSeconds,
            SnapshotId = r.SnapshotId,
            Vcpus = r.Vcpus,
            MemBytes = r.MemBytes,
            FsCapacityBytes = r.FsCapacityBytes,
            CpuMillicores = r.Vcpus * 1000,
            Labels = r.Labels,
            ProxyConfig = Networking.Egress.ProxyConfigRedaction.Redact(r.ProxyConfig),
            RunConfig = r.RunConfig,
            AccessDelegation = r.AccessDelegation,
            PreserveMemoryOnStop = false,
            Persistent = r.Persistent,
            UnenforcedLimits = r.UnenforcedLimits.Count == 0 ? null : r.UnenforcedLimits,
        };
    }
}
