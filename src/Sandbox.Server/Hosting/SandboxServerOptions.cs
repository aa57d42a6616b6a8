namespace Sandbox.Server;

/// <summary>Settings of the local sandbox server (bindable from configuration section <c>SandboxServer</c>).</summary>
public sealed class SandboxServerOptions
{
    /// <summary>Folder holding box and snapshot state. Default: <c>$XDG_DATA_HOME/sandbox-server</c> or <c>~/.local/share/sandbox-server</c>.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>API key every request must send as <c>X-Api-Key</c>. Generated at start when null.</summary>
    /// <remarks>Never logged.</remarks>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Named secrets that proxy rules reference as <c>{NAME}</c> (<c>workspace_secret</c>); the egress proxy injects them
    /// into matching outbound requests, so they never enter a box. Also read from configuration section <c>Secrets</c>
    /// and environment variables <c>SANDBOX_SECRET_&lt;NAME&gt;</c>.
    /// </summary>
    /// <remarks>Never logged or returned by the API.</remarks>
    public IDictionary<string, string> Secrets { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>vCPUs of a box whose create call does not say (enforced as a CFS quota where cgroups allow).</summary>
    public int DefaultVcpus { get; set; } = 2;

    /// <summary>Memory limit of a box whose create call does not say.</summary>
    public long DefaultMemoryBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// First host uid/gid of the box id range: box ids 0-65535 run as host ids <c>BoxIdBase</c> to <c>BoxIdBase + 65535</c>.
    /// Pick a range no host user or file uses (the default, 2,000,000,000, lies above systemd's container ranges and below
    /// its reserved ids). Servers on one host may share a range (their boxes are still separated by namespaces, cgroups and
    /// seccomp) or use distinct ones.
    /// </summary>
    public int BoxIdBase { get; set; } = 2_000_000_000;

    /// <summary>
    /// Disk capacity of a box whose create call (and snapshot) does not say, enforced like <c>fs_capacity_bytes</c> (a
    /// sparse loop-mounted ext4 image per box), so no box can fill the host disk. 0 disables (boxes then write to the
    /// data folder's filesystem without a bound).
    /// </summary>
    public long DefaultFsCapacityBytes { get; set; } = 10L * 1024 * 1024 * 1024;

    /// <summary>Maximum number of processes (and threads) per box.</summary>
    public int PidsLimit { get; set; } = 1024;

    /// <summary>idle_ttl_seconds when the create call omits it (0 disables).</summary>
    public int DefaultIdleTtlSeconds { get; set; } = 600;

    /// <summary>delete_after_stop_seconds when the create call omits it (0 disables).</summary>
    public int DefaultDeleteAfterStopSeconds { get; set; } = 14 * 24 * 3600;

    /// <summary>Bytes of stdout and of stderr kept per command for reattachment (a ring buffer: older output is dropped).</summary>
    public int OutputBufferBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>Largest accepted file upload.</summary>
    public long MaxUploadBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Deepest directory level a glob or grep walk enters; a deeper tree answers 422 <c>WalkLimitExceeded</c>.</summary>
    public int FileWalkMaxDepth { get; set; } = 256;

    /// <summary>Most directory entries one glob or grep walk examines; a larger tree answers 422 <c>WalkLimitExceeded</c>.</summary>
    public long FileWalkMaxEntries { get; set; } = 1_000_000;

    /// <summary>Time one glob or grep walk may take; then it answers the matches so far with <c>truncated: true</c> (spec delta 5.3).</summary>
    public TimeSpan FileWalkTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Glob and grep walks that may run at once per box; further ones wait (up to the walk timeout, then 429).</summary>
    public int FileWalksPerBox { get; set; } = 2;

    /// <summary>
    /// Boxes of the default snapshot kept started and unnamed, handed out by create calls that fit them (default snapshot,
    /// no fs capacity, no proxy config, persistent) so creating a box does not wait for its namespaces. The floor of the
    /// warm pool, which grows with recent demand up to <see cref="WarmBoxesMax"/>. 0 disables the pool entirely.
    /// </summary>
    public int WarmBoxes { get; set; } = 2;

    /// <summary>
    /// Most warm boxes kept when create calls come faster (the pool grows to the creates of the last
    /// <see cref="WarmBoxesDemandWindow"/>, see <c>Runtime/WarmPoolSizer</c>). Below <see cref="WarmBoxes"/> it counts as
    /// <see cref="WarmBoxes"/> (a fixed pool). The pool also stops growing while the host has less than a tenth of its
    /// memory (at least 512 MiB) available.
    /// </summary>
    public int WarmBoxesMax { get; set; } = 24;

    /// <summary>How far back create calls count towards the warm pool's size; the pool starts shrinking one window after the last.</summary>
    public TimeSpan WarmBoxesDemandWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>While the pool holds more warm boxes than recent demand asks for, one is given up per interval (an idle warm box costs memory).</summary>
    public TimeSpan WarmBoxesShrinkInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Warm boxes started at once while the pool refills; create calls that find no warm box start theirs outside this
    /// bound. Measured on 2 shared cores (12 warm boxes, two rounds): 1 at once took 11.5-13.4 s, 2 took 8.4-13.3 s,
    /// 4 took 6.5-10.9 s, 8 took 9.1-10.2 s: beyond about twice the cores each start only gets slower.
    /// </summary>
    public int WarmBoxesStartConcurrency { get; set; } = 4;

    /// <summary>
    /// What the <c>default</c> snapshot is: its own Debian root filesystem (the default; built once per machine from its
    /// Debian mirror and cached), or <see cref="DefaultSnapshotKind.Host"/>, the host's folders, for offline hosts.
    /// </summary>
    public DefaultSnapshotKind DefaultSnapshot { get; set; } = DefaultSnapshotKind.Debian;

    /// <summary>
    /// Machine-wide cache of the Debian default root filesystem (shared by every server on the machine). Default:
    /// <c>$SANDBOX_SERVER_CACHE</c>, else <c>/var/cache/sandbox-server</c> for root, else <c>$XDG_CACHE_HOME/sandbox-server</c>.
    /// </summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Largest image layer (compressed, as announced by its manifest) a registry pull accepts.</summary>
    public long MaxImageLayerBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    /// <summary>How often idle boxes are stopped and expired stopped boxes deleted.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);
}
