using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Per-command options of <see cref="SandboxInstance.RunAsync"/> and <see cref="SandboxInstance.StartCommandAsync"/>
/// (spec §8.5.2, delta §6.1).</summary>
public sealed record RunOptions
{
    /// <summary>Command deadline (default 60 s); <see cref="TimeSpan.Zero"/> = no deadline. Whole seconds are sent.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Extra environment (deprecated by the service in favour of <see cref="RunConfig"/>; cannot be combined with it).</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Working directory (deprecated in favour of <see cref="RunConfig"/>; cannot be combined with it).</summary>
    public string? Cwd { get; init; }

    /// <summary>The shell that runs the command (default <c>/bin/bash</c>).</summary>
    public string Shell { get; init; } = "/bin/bash";

    /// <summary>Allocate a pseudo-terminal (stderr merged into stdout; stdin stays open; send U+0004 for EOF).</summary>
    public bool Pty { get; init; }

    /// <summary>Kill the command after this long with no attached client (default 300 s);
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> = never.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>Kill the command as soon as the last client detaches.</summary>
    public bool KillOnDisconnect { get; init; }

    /// <summary>How long a finished command's output stays available for re-attaching (default 600 s);
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> = forever.</summary>
    public TimeSpan? SessionTtl { get; init; }

    /// <summary>The idempotency key of the command; a UUIDv7 (32 hex digits) is generated when null.</summary>
    public string? CommandId { get; init; }

    /// <summary>Close the command's stdin at spawn. Default: true without a PTY, and always false under a PTY.</summary>
    public bool? CloseStdin { get; init; }

    /// <summary>Per-command user, working directory and environment layered over the sandbox's.</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>Called for every output chunk exactly once, including chunks received after an automatic re-attach.
    /// Only for <see cref="SandboxInstance.RunAsync"/> (like the Python SDK, a started command is read through
    /// <see cref="CommandHandle.ReadOutputAsync"/> instead).</summary>
    public Action<OutputChunk>? OnOutput { get; init; }

    /// <summary>
    /// Keep the command's output for <see cref="CommandResult.Stdout"/>/<see cref="CommandResult.Stderr"/> (default true).
    /// Set it to false for a long-lived command read through <see cref="CommandHandle.ReadOutputAsync"/>, so its output is
    /// not also accumulated in memory; the result then carries the exit code and empty text.
    /// </summary>
    public bool CollectOutput { get; init; } = true;

    /// <summary>Headers for this call only, overriding the client's (including <c>X-Api-Key</c>) case-insensitively.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>
    /// Run through the blocking HTTP <c>POST {dataplane}/execute</c> endpoint instead of the WebSocket. The SDKs use it only
    /// when their WebSocket library is missing; .NET always has WebSockets, so this client uses it only on request
    /// (deliberate deviation). No streaming, stdin, PTY or re-attach on this path, and <see cref="OnOutput"/> is refused.
    /// </summary>
    public bool UseHttpExecute { get; init; }
}
