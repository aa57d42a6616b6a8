using Sandbox.Protocol;

namespace Sandbox.Server.Commands;

/// <summary>What a caller asked to run; <see cref="CommandSpecBuilder"/> resolves it against the box into a <see cref="CommandSpec"/>.</summary>
internal sealed record CommandStartRequest
{
    public required string CommandId { get; init; }

    public required string Command { get; init; }

    /// <summary>Null or blank: <c>/bin/bash</c>.</summary>
    public string? Shell { get; init; }

    /// <summary>Environment on top of the run_config layers (deprecated wire field <c>env</c>).</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Working directory, absolute or relative to <c>/home/user</c> (deprecated wire field <c>cwd</c>).</summary>
    public string? Cwd { get; init; }

    /// <summary>The command's own run_config layer (over snapshot and box).</summary>
    public RunConfig? RunConfig { get; init; }

    public bool Pty { get; init; }

    /// <summary>Close the command's stdin at once (ignored with a PTY).</summary>
    public bool CloseStdin { get; init; }

    /// <summary>Seconds; 0 or less = no deadline.</summary>
    public int TimeoutSeconds { get; init; } = 60;

    /// <summary>Seconds without an attached client before the command is killed; -1 (or 0) = never.</summary>
    public int IdleTimeoutSeconds { get; init; } = 300;

    public bool KillOnDisconnect { get; init; }

    /// <summary>Seconds a finished session is kept for reattachment; -1 = forever.</summary>
    public int TtlSeconds { get; init; } = 600;
}
