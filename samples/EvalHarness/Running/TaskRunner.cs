using System.Globalization;
using System.Text;
using EvalHarness.Tasks;
using Sandbox.AgentTools;
using Sandbox.Client;

namespace EvalHarness.Running;

/// <summary>Runs one task in its own box, rented from the pool under the task's id and deleted afterwards.</summary>
internal sealed class TaskRunner(SandboxLeasePool pool, TimeProvider time)
{
    public const string Workspace = "/home/user";

    /// <summary>Extra time the harness gives a run past the task's own timeout before it stops waiting.</summary>
    private static readonly TimeSpan HarnessGrace = TimeSpan.FromSeconds(30);

    public async Task<TaskResult> RunAsync(EvalTask task, CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        string? boxName = null;
        TimeSpan testTime = TimeSpan.Zero;
        try
        {
            await using SandboxLease lease = await pool.RentAsync(task.Id, cancellationToken);
            SandboxInstance box = lease.Sandbox;
            boxName = box.Name;
            await box.WriteFileAsync($"{Workspace}/solution.py", task.Code, cancellationToken);
            await box.WriteFileAsync($"{Workspace}/test_solution.py", task.Tests, cancellationToken);

            // The tests' output goes to files, not to the command's pipes: processes a solution leaves behind (a fork
            // bomb's children) must not keep the command open. coreutils' timeout exits with 124 when it stopped them.
            string seconds = task.TimeoutSeconds.ToString("0.###", CultureInfo.InvariantCulture);
            string command = $"timeout -k 2 {seconds} python3 test_solution.py > test.out 2> test.err; echo \"exit=$?\"";
            long testStarted = time.GetTimestamp();
            int? exitCode = null;
            string? stoppedBy = null;
            try
            {
                CommandResult result = await box.RunAsync(command,
                    new RunOptions { Cwd = Workspace, Timeout = TimeSpan.FromSeconds(task.TimeoutSeconds) + HarnessGrace }, cancellationToken);
                exitCode = ParseExitCode(result.Stdout);
                if (exitCode is null)
                {
                    return Result(Verdict.Error, null, $"the test command printed no exit status (exit {result.ExitCode}): {LastLine(result.Stderr)}");
                }
            }
            catch (CommandTimeoutException)
            {
                stoppedBy = $"stopped by the harness after {(TimeSpan.FromSeconds(task.TimeoutSeconds) + HarnessGrace).TotalSeconds:0} s";
            }

            testTime = time.GetElapsedTime(testStarted);
            string stdout = await ReadTailAsync(box, "test.out", cancellationToken);
            string stderr = await ReadTailAsync(box, "test.err", cancellationToken);
            string? killedBecause = exitCode == 137 ? await OutOfMemoryNoteAsync(box, cancellationToken) : null;
            return exitCode switch
            {
                null => Result(Verdict.TimedOut, null, stoppedBy!),
                0 => Result(Verdict.Passed, 0, LastLine(stdout) ?? "tests passed"),
                124 => Result(Verdict.TimedOut, 124, $"stopped after {seconds} s" + (LastLine(stdout) is { } o ? $" ({o})" : "")),
                137 => Result(Verdict.Failed, 137, killedBecause ?? "killed by SIGKILL" + (LastLine(stderr) is { } e ? $": {e}" : "")),
                int code => Result(Verdict.Failed, code, LastLine(stderr) ?? LastLine(stdout) ?? $"exit code {code}"),
            };
        }
        catch (SandboxException ex)
        {
            return Result(Verdict.Error, null, $"sandbox error: {ex.Message}");
        }
        finally
        {
            // Deletes the box, and with it anything the solution left running.
            await pool.ReleaseConversationAsync(task.Id, CancellationToken.None);
        }

        TaskResult Result(Verdict verdict, int? exitCode, string detail) =>
            new(task, verdict, exitCode, testTime, time.GetElapsedTime(started), boxName, detail);
    }

    private static int? ParseExitCode(string stdout)
    {
        foreach (string line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Reverse())
        {
            if (line.StartsWith("exit=", StringComparison.Ordinal) && int.TryParse(line.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int code))
            {
                return code;
            }
        }

        return null;
    }

    /// <summary>The server notes an out-of-memory kill in the box's status message; null when it did not.</summary>
    private static async Task<string?> OutOfMemoryNoteAsync(SandboxInstance box, CancellationToken cancellationToken)
    {
        try
        {
            string? message = (await box.RefreshAsync(cancellationToken)).StatusMessage;
            return message is not null && message.Contains("memory limit", StringComparison.OrdinalIgnoreCase)
                ? $"killed by the out-of-memory killer at the box's {box.Info.MemBytes / (1024 * 1024)} MiB limit"
                : null;
        }
        catch (SandboxException)
        {
            return null;
        }
    }

    private static async Task<string> ReadTailAsync(SandboxInstance box, string name, CancellationToken cancellationToken)
    {
        try
        {
            byte[] bytes = await box.ReadFileAsync($"{Workspace}/{name}", cancellationToken);
            int start = Math.Max(0, bytes.Length - 4096);
            return Encoding.UTF8.GetString(bytes, start, bytes.Length - start);
        }
        catch (SandboxException)
        {
            return "";
        }
    }

    private static string? LastLine(string text)
    {
        string? line = text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
        return line is null ? null : line.Length > 160 ? line[..157] + "..." : line;
    }
}
