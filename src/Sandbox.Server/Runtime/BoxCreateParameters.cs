using Sandbox.Protocol;

namespace Sandbox.Server.Runtime;

/// <summary>A validated request for a new box (the API edge checks the fields; null means the server default).</summary>
internal sealed record BoxCreateParameters
{
    /// <summary>The box name; null or empty: a generated <c>sandbox-xxxxxx</c>.</summary>
    public string? Name { get; init; }

    /// <summary>Id or name of the snapshot; null: the default snapshot.</summary>
    public string? Snapshot { get; init; }

    public int? IdleTtlSeconds { get; init; }

    public int? DeleteAfterStopSeconds { get; init; }

    public int? Vcpus { get; init; }

    public long? MemBytes { get; init; }

    public long? FsCapacityBytes { get; init; }

    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    public ProxyConfig? ProxyConfig { get; init; }

    public RunConfig? RunConfig { get; init; }

    public bool Persistent { get; init; } = true;

    /// <summary>Wait until the box is ready (or failed) before returning.</summary>
    public bool WaitForReady { get; init; }

    /// <summary>How long to wait when <see cref="WaitForReady"/> is set.</summary>
    public int ReadyTimeoutSeconds { get; init; } = 30;
}
