using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>
/// Settings of a <see cref="SandboxLeasePool"/>: how many boxes it keeps warm, how many it may own, how long a
/// conversation keeps its box and how long a caller waits for one.
/// </summary>
/// <remarks>Bindable from configuration. Values are read once, when the pool is created.</remarks>
public sealed class SandboxPoolOptions
{
    /// <summary>Snapshot name the boxes are created from (default <c>default</c>). Ignored when <see cref="SnapshotId"/> is set.</summary>
    public string? SnapshotName { get; set; } = "default";

    /// <summary>Snapshot id the boxes are created from; takes precedence over <see cref="SnapshotName"/>.</summary>
    public string? SnapshotId { get; set; }

    /// <summary>Boxes kept created, ready and unassigned, so a new conversation does not wait for a create (default 1).</summary>
    public int MinIdle { get; set; } = 1;

    /// <summary>Upper bound on the boxes this pool owns at once: warm, assigned and being created (default 8).</summary>
    public int MaxBoxes { get; set; } = 8;

    /// <summary>How long <see cref="SandboxLeasePool.RentAsync"/> waits for a box before failing (default 60 s).</summary>
    public TimeSpan AcquireTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A conversation's box that was not rented for this long is deleted (default 15 min).</summary>
    public TimeSpan ConversationIdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>A box older than this is deleted when next idle, and replaced (default 4 h). <see cref="TimeSpan.Zero"/> = no limit.</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromHours(4);

    /// <summary>A box that sat idle for at least this long has its status checked on rent (default 30 s).</summary>
    public TimeSpan HealthCheckAfterIdle { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often idle boxes are examined for reclaim and the warm set is topped up (default 10 s).</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one box creation may take (default 120 s).</summary>
    public TimeSpan CreateTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Proxy rules every box is created with (secrets by reference, e.g. <c>{"type":"workspace_secret","value":"{GITHUB_TOKEN}"}</c>),
    /// so credentials are injected at the egress proxy and never enter the box.
    /// </summary>
    public Sandbox.Protocol.ProxyConfig? ProxyConfig { get; set; }

    /// <summary>
    /// Template for every create call (vcpus, memory, labels, ...). The pool sets the snapshot, the proxy config and
    /// its own labels on top of it.
    /// </summary>
    public CreateSandboxOptions? CreateOptions { get; set; }
}
