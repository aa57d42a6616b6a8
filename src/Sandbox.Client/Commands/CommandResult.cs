namespace Sandbox.Client;

/// <summary>The outcome of a finished command. A non-zero exit code is a result, not an exception.</summary>
/// <param name="Stdout">All standard output, in arrival order across every connection of the command.</param>
/// <param name="Stderr">All standard error.</param>
/// <param name="ExitCode">The exit code (-1 when the server did not send one).</param>
public sealed record CommandResult(string Stdout, string Stderr, int ExitCode)
{
    /// <summary>True when the command exited with code 0 (Py <c>ExecutionResult.success</c>).</summary>
    public bool Success => ExitCode == 0;

    /// <summary>Bytes of stdout the server no longer had when they were due (a jump in chunk offsets, e.g. its output
    /// buffer overflowed or a re-attach resumed past evicted output). 0 when the output is complete.</summary>
    public long StdoutSkippedBytes { get; init; }

    /// <summary>Bytes of stderr skipped in the same way.</summary>
    public long StderrSkippedBytes { get; init; }
}
