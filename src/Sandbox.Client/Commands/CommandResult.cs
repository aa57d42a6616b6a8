namespace Sandbox.Client;

/// <summary>The outcome of a finished command. A non-zero exit code is a result, not an exception.</summary>
/// <param name="Stdout">All standard output, in arrival order across every connection of the command.</param>
/// <param name="Stderr">All standard error.</param>
/// <param name="ExitCode">The exit code (-1 when the server did not send one).</param>
public sealed record CommandResult(string Stdout, string Stderr, int ExitCode);
