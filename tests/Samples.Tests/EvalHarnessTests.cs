using System.Text.Json;
using System.Text.RegularExpressions;

namespace Samples.Tests;

[Collection(SamplesCollection.Name)]
public sealed class EvalHarnessTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eval-harness-test-").FullName;

    [Fact]
    public async Task ShippedTaskSet_EveryVerdictAsExpectedAndTheHostContained()
    {
        string tasksPath = Path.Combine(AppContext.BaseDirectory, "tasks.jsonl");
        var expected = File.ReadLines(tasksPath)
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(e => e.GetProperty("id").GetString()!, e => e.GetProperty("expected").GetString()!);
        Assert.True(expected.Count >= 10, "the shipped task set is too small");

        (int exitCode, string text) = await RunAsync("--parallel", "4");

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{text}");
        foreach ((string id, string verdict) in expected)
        {
            // A table row: │ id │ kind │ expected │ verdict │ as expected │ ...
            Match row = Regex.Match(text, $@"│ {Regex.Escape(id)}\s+│ \w+\s+│ (?<expected>\w+)\s+│ (?<verdict>\w+)\s+│ (?<ok>\w+)\s+│");
            Assert.True(row.Success, $"no table row for {id}\n{text}");
            Assert.Equal(verdict, row.Groups["verdict"].Value);
            Assert.Equal("yes", row.Groups["ok"].Value);
        }

        int passed = expected.Values.Count(v => v == "pass"), failed = expected.Values.Count(v => v == "fail"), timedOut = expected.Values.Count(v => v == "timeout");
        Assert.Contains($"{expected.Count} tasks: {passed} passed, {failed} failed, {timedOut} timed out — all verdicts as expected", text, StringComparison.Ordinal);
        Assert.Matches(@"server:\s+healthy after the run", text);
        Assert.Matches(@"host:\s+untouched", text);
        Assert.Matches(@"boxes:\s+all deleted", text);
    }

    [Fact]
    public async Task VerdictDifferentFromExpected_ExitsNonZeroAndNamesTheTask()
    {
        string tasks = Path.Combine(_dir, "tasks.jsonl");
        await File.WriteAllLinesAsync(tasks,
        [
            """{"id":"adds","expected":"pass","timeout_seconds":10,"code":"def add(a, b):\n    return a + b\n","tests":"from solution import add\nassert add(2, 3) == 5\n"}""",
            """{"id":"claims-to-fail","expected":"fail","timeout_seconds":10,"code":"def add(a, b):\n    return a + b\n","tests":"from solution import add\nassert add(2, 2) == 4\n"}""",
        ]);

        (int exitCode, string text) = await RunAsync("--tasks", tasks, "--parallel", "2");

        Assert.Equal(1, exitCode);
        Assert.Contains("2 tasks: 2 passed, 0 failed, 0 timed out — 1 verdict(s) differ: claims-to-fail expected fail, got pass", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedTaskFile_ExitsWithTheLineThatIsWrong()
    {
        string tasks = Path.Combine(_dir, "bad.jsonl");
        await File.WriteAllLinesAsync(tasks, ["""{"id":"ok","expected":"pass","code":"","tests":""}""", """{"id":"broken", "expected": """]);

        (int exitCode, string text) = await RunAsync("--tasks", tasks);

        Assert.Equal(2, exitCode);
        Assert.Contains("bad.jsonl:2: not a valid task", text, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int ExitCode, string Text)> RunAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        using var writer = new StringWriter();
        int exitCode = await EvalHarness.Program.RunAsync(args, writer, timeout.Token);
        string text = writer.ToString();
        log.WriteLine(text);
        return (exitCode, text);
    }
}
