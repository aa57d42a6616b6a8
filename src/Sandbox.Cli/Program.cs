using Sandbox.Cli.Infrastructure;

namespace Sandbox.Cli;

/// <summary>Entry point of the <c>sandbox</c> tool. Every failure ends as one line on stderr and a non-zero exit code.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var interrupt = new InterruptSignal();
        try
        {
            return await CliApp.RunAsync(args, interrupt).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            return CliErrors.Report(e);
        }
    }
}
