using EvalHarness.Tasks;

namespace EvalHarness.Running;

/// <summary>How one task ended.</summary>
/// <param name="Task">The task.</param>
/// <param name="Verdict">What happened.</param>
/// <param name="ExitCode">Exit code of the tests, when they exited.</param>
/// <param name="TestTime">How long the tests ran.</param>
/// <param name="TotalTime">Box rent, file upload, tests and output read-back.</param>
/// <param name="Box">The box the task ran in.</param>
/// <param name="Detail">The line that explains the verdict (last line of the output, or what stopped it).</param>
internal sealed record TaskResult(EvalTask Task, Verdict Verdict, int? ExitCode, TimeSpan TestTime, TimeSpan TotalTime, string? Box, string Detail)
{
    public bool AsExpected => Verdict == Verdict.Skipped || Verdict == Task.ExpectedVerdict;
}
