namespace Sandbox.Protocol;

/// <summary>A client → server frame on <c>{dataplane}/execute/ws</c>: <c>execute</c>, <c>reconnect</c>, <c>input</c>, <c>kill</c> or <c>close_stdin</c>.</summary>
/// <remarks>One record for every frame type; each type uses the fields listed in the spec and leaves the rest unset.</remarks>
public sealed record ExecutionClientFrame
{
    /// <summary>Frame type; see <see cref="ExecutionFrameTypes"/>.</summary>
    public string Type { get; set; } = "";

    /// <summary>execute: command text.</summary>
    public string? Command { get; init; }

    /// <summary>execute: deadline in seconds; 0 = none.</summary>
    public int? TimeoutSeconds { get; init; }

    /// <summary>execute: shell.</summary>
    public string? Shell { get; init; }

    /// <summary>execute: kill after this long with no attached client; -1 = never.</summary>
    public int? IdleTimeoutSeconds { get; init; }

    /// <summary>execute: kill when the last client detaches.</summary>
    public bool? KillOnDisconnect { get; init; }

    /// <summary>execute: how long a finished session is kept for reattachment; -1 = forever.</summary>
    public int? TtlSeconds { get; init; }

    /// <summary>execute/reconnect: idempotency key of the command.</summary>
    public string? CommandId { get; init; }

    /// <summary>execute: extra environment (deprecated).</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>execute: working directory (deprecated).</summary>
    public string? Cwd { get; init; }

    /// <summary>execute: allocate a pseudo-terminal (only ever sent as true).</summary>
    public bool? Pty { get; init; }

    /// <summary>execute: per-command run configuration.</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>execute: close stdin at spawn (only ever sent as true).</summary>
    public bool? CloseStdin { get; init; }

    /// <summary>reconnect: stdout byte offset to resume from.</summary>
    public long? StdoutOffset { get; init; }

    /// <summary>reconnect: stderr byte offset to resume from.</summary>
    public long? StderrOffset { get; init; }

    /// <summary>input: text written to stdin.</summary>
    public string? Data { get; init; }

    /// <summary>resize (local-server extension, PTY commands): terminal columns.</summary>
    public int? Cols { get; init; }

    /// <summary>resize (local-server extension, PTY commands): terminal rows.</summary>
    public int? Rows { get; init; }
}
