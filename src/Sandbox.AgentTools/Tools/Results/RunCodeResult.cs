namespace Sandbox.AgentTools;

/// <summary>What <c>run_code</c> tells the model.</summary>
internal sealed record RunCodeResult
{
    public required string Language { get; init; }

    /// <summary><c>ok</c>, <c>error</c>, <c>timed_out</c>, <c>output_limit</c> or <c>interpreter_exited</c>.</summary>
    public required string Status { get; init; }

    /// <summary>Process exit code for bash; for python/javascript 0 (ok), 1 (exception), 130 (interrupted), null (interpreter died).</summary>
    public int? ExitCode { get; init; }

    public required string Stdout { get; init; }

    public required string Stderr { get; init; }

    public long StdoutBytes { get; init; }

    public long StderrBytes { get; init; }

    public bool StdoutTruncated { get; init; }

    public bool StderrTruncated { get; init; }

    public double DurationMs { get; init; }

    public bool TimedOut { get; init; }

    /// <summary>Interpreter state (variables, imports, functions) from earlier calls is gone.</summary>
    public bool StateLost { get; init; }

    public string? Error { get; init; }

    /// <summary>What to do next, in plain words.</summary>
    public string? Note { get; init; }

    public IReadOnlyList<FileChange>? FilesChanged { get; init; }

    public int? FilesChangedOmitted { get; init; }

    public IReadOnlyList<string>? Images { get; init; }
}
