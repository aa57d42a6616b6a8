namespace EvalHarness.Tasks;

/// <summary>How a task ended.</summary>
internal enum Verdict
{
    /// <summary>The tests exited with code 0.</summary>
    Passed,

    /// <summary>The tests exited with another code (assertion, exception, killed).</summary>
    Failed,

    /// <summary>The tests ran past the task's timeout and were stopped.</summary>
    TimedOut,

    /// <summary>Not run: the server does not enforce a limit the task relies on.</summary>
    Skipped,

    /// <summary>The harness or the sandbox failed (not the solution).</summary>
    Error,
}
