namespace Sandbox.Server.Commands;

/// <summary>A fully resolved command: what to run, where, as whom, with which environment and lifetimes.</summary>
internal sealed record CommandSpec
{
    public required string CommandId { get; init; }

    public required string Command { get; init; }

    public string Shell { get; init; } = "/bin/bash";

    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public string WorkingDirectory { get; init; } = "/home/user";

    public int? Uid { get; init; }

    public int? Gid { get; init; }

    public bool Pty { get; init; }

    public bool CloseStdin { get; init; }

    /// <summary>Seconds; 0 = no deadline.</summary>
    public int TimeoutSeconds { get; init; } = 60;

    /// <summary>Seconds without an attached client before the command is killed; -1 (or 0) = never.</summary>
    public int IdleTimeoutSeconds { get; init; } = 300;

    public bool KillOnDisconnect { get; init; }

    /// <summary>Seconds a finished session is kept for reattachment; -1 = forever.</summary>
    public int TtlSeconds { get; init; } = 600;
}
