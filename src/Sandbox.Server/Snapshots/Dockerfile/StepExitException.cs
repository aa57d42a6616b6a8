namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>A RUN step's non-zero exit.</summary>
internal sealed class StepExitException(int exitCode, string tail) : Exception($"exit {exitCode}")
{
    public int ExitCode { get; } = exitCode;

    public string Tail { get; } = tail;
}
