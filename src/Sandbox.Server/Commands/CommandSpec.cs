namespace Sandbox.Server.Commands;

/// <summary>
/// A fully resolved command: the caller's <see cref="CommandStartRequest"/> (normalized: no negative deadline, no
/// closed stdin with a PTY) and what <see cref="CommandSpecBuilder"/> resolved against the box: shell, environment,
/// working directory and user.
/// </summary>
internal sealed record CommandSpec
{
    /// <summary>What was asked: command text, PTY, stdin and the lifetimes (deadline, idle, kill on disconnect, TTL).</summary>
    public required CommandStartRequest Request { get; init; }

    public string CommandId => Request.CommandId;

    public string Command => Request.Command;

    public bool Pty => Request.Pty;

    public string Shell { get; init; } = "/bin/bash";

    public required IReadOnlyDictionary<string, string> Environment { get; init; }

    public string WorkingDirectory { get; init; } = "/home/user";

    public int? Uid { get; init; }

    public int? Gid { get; init; }
}
