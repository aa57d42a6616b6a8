using System.Diagnostics;
using System.Text.Json;

namespace Sandbox.AgentTools.Tests;

[Collection(LocalServerCollection.Name)]
public sealed class RunCodeTests(LocalServerFixture fixture)
{
    private ToolHarness Conversation(SandboxToolOptions? options = null) => new(fixture.Pool, "conv-" + Guid.NewGuid().ToString("N")[..8], options);

    [Fact]
    public async Task Python_VariablesAndImportsPersistBetweenCalls()
    {
        await using ToolHarness chat = Conversation();
        ToolCall first = await chat.CallAsync("run_code", new { code = "import math\nx = 21\nprint('set')", language = "python" });
        Assert.Equal("ok", first.Str("status"));
        Assert.Equal("set\n", first.Str("stdout"));
        Assert.False(first.Bool("state_lost"));

        ToolCall second = await chat.CallAsync("run_code", new { code = "x * 2 + math.floor(0.5)", language = "python" });
        Assert.Equal("ok", second.Str("status"));
        Assert.Equal(0, second.Long("exit_code"));
        Assert.Equal("42\n", second.Str("stdout"));
        Assert.False(second.Bool("state_lost"));
    }

    [Fact]
    public async Task Python_Exception_IsReportedWithTraceback_AndStateIsKept()
    {
        await using ToolHarness chat = Conversation();
        await chat.CallAsync("run_code", new { code = "kept = 'yes'", language = "python" });
        ToolCall failed = await chat.CallAsync("run_code", new { code = "def f():\n    return 1 / 0\nf()", language = "python" });
        Assert.Equal("error", failed.Str("status"));
        Assert.Equal(1, failed.Long("exit_code"));
        Assert.Contains("ZeroDivisionError", failed.Str("stderr"), StringComparison.Ordinal);
        Assert.Contains("line 2, in f", failed.Str("stderr"), StringComparison.Ordinal);
        Assert.DoesNotContain("python_repl.py", failed.Str("stderr"), StringComparison.Ordinal);
        Assert.Equal("ZeroDivisionError: division by zero", failed.Str("error"));

        ToolCall after = await chat.CallAsync("run_code", new { code = "print(kept)", language = "python" });
        Assert.Equal("yes\n", after.Str("stdout"));
    }

    [Fact]
    public async Task Python_Timeout_InterruptsTheCall_AndTheInterpreterKeepsItsState()
    {
        await using ToolHarness chat = Conversation();
        await chat.CallAsync("run_code", new { code = "y = 7", language = "python" });
        ToolCall slow = await chat.CallAsync("run_code", new { code = "import time\nprint('working', flush=True)\nwhile True:\n    time.sleep(0.05)", language = "python", timeout_seconds = 1 });
        Assert.Equal("timed_out", slow.Str("status"));
        Assert.True(slow.Bool("timed_out"));
        Assert.False(slow.Bool("state_lost"));
        Assert.Contains("working", slow.Str("stdout"), StringComparison.Ordinal);
        Assert.Contains("KeyboardInterrupt", slow.Str("stderr"), StringComparison.Ordinal);

        ToolCall after = await chat.CallAsync("run_code", new { code = "print(y)", language = "python" });
        Assert.Equal("ok", after.Str("status"));
        Assert.Equal("7\n", after.Str("stdout"));
        Assert.False(after.Bool("state_lost"));
    }

    [Fact]
    public async Task Python_InterpreterThatIgnoresTheInterrupt_IsRestarted_AndSaysStateWasLost()
    {
        await using ToolHarness chat = Conversation(new SandboxToolOptions { InterruptGracePeriod = TimeSpan.FromSeconds(1) });
        await chat.CallAsync("run_code", new { code = "w = 1", language = "python" });
        ToolCall stuck = await chat.CallAsync("run_code", new
        {
            code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)",
            language = "python",
            timeout_seconds = 1,
        });
        Assert.True(stuck.Bool("timed_out"));
        Assert.True(stuck.Bool("state_lost"));
        Assert.Contains("state", stuck.Str("note"), StringComparison.OrdinalIgnoreCase);

        ToolCall after = await chat.CallAsync("run_code", new { code = "print('w' in globals())", language = "python" });
        Assert.Equal("ok", after.Str("status"));
        Assert.Equal("False\n", after.Str("stdout"));
    }

    [Fact]
    public async Task Python_KilledInterpreter_IsRestarted_AndTheModelIsToldStateWasLost()
    {
        await using ToolHarness chat = Conversation();
        ToolCall setup = await chat.CallAsync("run_code", new { code = "import os\nz = 1\nopen('/tmp/repl.pid', 'w').write(str(os.getpid()))", language = "python" });
        Assert.Equal("ok", setup.Str("status"));

        ToolCall kill = await chat.CallAsync("run_code", new { code = "kill -9 \"$(cat /tmp/repl.pid)\"", language = "bash" });
        Assert.Equal(0, kill.Long("exit_code"));
        await Task.Delay(300);

        ToolCall next = await chat.CallAsync("run_code", new { code = "print('z' in globals())", language = "python" });
        Assert.True(next.Bool("state_lost"), next.ToString());
        Assert.Contains("lost", next.Str("note"), StringComparison.OrdinalIgnoreCase);
        if (next.Str("status") != "ok")
        {
            // The exit was noticed only while this call ran; the call after it runs on the fresh interpreter.
            next = await chat.CallAsync("run_code", new { code = "print('z' in globals())", language = "python" });
        }

        Assert.Equal("False\n", next.Str("stdout"));
    }

    [Fact]
    public async Task Python_InterpreterExitingDuringTheCall_ReportsLostState()
    {
        await using ToolHarness chat = Conversation();
        ToolCall call = await chat.CallAsync("run_code", new { code = "import os\nprint('bye', flush=True)\nos._exit(3)", language = "python" });
        Assert.Equal("interpreter_exited", call.Str("status"));
        Assert.True(call.Bool("state_lost"));
        Assert.Contains("bye", call.Str("stdout"), StringComparison.Ordinal);

        ToolCall after = await chat.CallAsync("run_code", new { code = "print(1 + 1)", language = "python" });
        Assert.Equal("2\n", after.Str("stdout"));
    }

    [Fact]
    public async Task Python_ImageWrittenToTheOutputDirectory_ComesBackAsDataContent()
    {
        await using ToolHarness chat = Conversation();
        ToolCall call = await chat.CallAsync("run_code", new { code = TestImages.PythonWritesPng, language = "python" });
        Assert.Equal("ok", call.Str("status"));
        Microsoft.Extensions.AI.DataContent image = Assert.Single(call.Media);
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(TestImages.Png, image.Data.ToArray());
        Assert.Equal("plot.png", call.Json.GetProperty("images")[0].GetString());
        Assert.True(!call.Json.TryGetProperty("files_changed", out JsonElement changes) || changes.GetArrayLength() == 0,
            "the output directory is outside the workspace and not reported as a workspace change");
    }

    [Fact]
    public async Task Python_LongConversation_KeepsStateAndOutput()
    {
        await using ToolHarness chat = Conversation();
        await chat.CallAsync("run_code", new { code = "total = 0", language = "python" });
        for (int i = 1; i <= 5; i++)
        {
            ToolCall call = await chat.CallAsync("run_code", new { code = $"total += {i}\nprint('x' * 3000)\nprint('total', total)", language = "python" });
            Assert.Equal("ok", call.Str("status"));
            Assert.False(call.Bool("state_lost"), call.ToString());
            Assert.Equal(3008 + (i * (i + 1) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture).Length, call.Long("stdout_bytes"));
            Assert.EndsWith($"total {i * (i + 1) / 2}\n", call.Str("stdout"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RunawayOutput_IsStoppedAtTheLimit_PythonKeepsState_BashIsKilled()
    {
        await using ToolHarness chat = Conversation(new SandboxToolOptions { MaxOutputBytesPerCall = 200_000 });
        await chat.CallAsync("run_code", new { code = "keep = 'me'", language = "python" });
        ToolCall flood = await chat.CallAsync("run_code", new { code = "while True:\n    print('x' * 1000)", language = "python", timeout_seconds = 60 });
        Assert.Equal("output_limit", flood.Str("status"));
        Assert.False(flood.Bool("state_lost"), flood.ToString());
        Assert.True(flood.Long("stdout_bytes") > 200_000);
        Assert.True(flood.Json.GetProperty("duration_ms").GetDouble() < 30_000);
        ToolCall after = await chat.CallAsync("run_code", new { code = "print(keep)", language = "python" });
        Assert.Equal("me\n", after.Str("stdout"));

        ToolCall yes = await chat.CallAsync("run_code", new { code = "yes", language = "bash", timeout_seconds = 60 });
        Assert.Equal("output_limit", yes.Str("status"));
        Assert.True(yes.Json.GetProperty("duration_ms").GetDouble() < 30_000);
    }

    [Fact]
    public async Task JavaScript_StatePersistsBetweenCalls()
    {
        await using ToolHarness chat = Conversation();
        ToolCall first = await chat.CallAsync("run_code", new { code = "var n = 5; const greet = (s) => 'hi ' + s;", language = "javascript" });
        Assert.Equal("ok", first.Str("status"));
        ToolCall second = await chat.CallAsync("run_code", new { code = "console.log(greet('there')); n * 3", language = "javascript" });
        Assert.Equal("ok", second.Str("status"));
        Assert.Equal("hi there\n15\n", second.Str("stdout"));
    }

    [Fact]
    public async Task JavaScript_Timeout_InterruptsABusyLoop_AndKeepsState()
    {
        await using ToolHarness chat = Conversation();
        await chat.CallAsync("run_code", new { code = "var kept = 'still here';", language = "javascript" });
        ToolCall busy = await chat.CallAsync("run_code", new { code = "while (true) {}", language = "javascript", timeout_seconds = 1 });
        Assert.True(busy.Bool("timed_out"), busy.ToString());
        Assert.False(busy.Bool("state_lost"));

        ToolCall pending = await chat.CallAsync("run_code", new { code = "await new Promise(() => {})", language = "javascript", timeout_seconds = 1 });
        Assert.True(pending.Bool("timed_out"), pending.ToString());
        Assert.False(pending.Bool("state_lost"));

        ToolCall after = await chat.CallAsync("run_code", new { code = "kept", language = "javascript" });
        Assert.Equal("'still here'\n", after.Str("stdout"));
    }

    [Fact]
    public async Task Bash_RunsInTheWorkspace_WithExitCode_AndReportsChangedFiles()
    {
        await using ToolHarness chat = Conversation();
        ToolCall call = await chat.CallAsync("run_code", new { code = "pwd; echo hello > made.txt; echo oops >&2; exit 3", language = "bash" });
        Assert.Equal("error", call.Str("status"));
        Assert.Equal(3, call.Long("exit_code"));
        Assert.Equal("/home/user\n", call.Str("stdout"));
        Assert.Equal("oops\n", call.Str("stderr"));
        JsonElement change = Assert.Single(call.Json.GetProperty("files_changed").EnumerateArray());
        Assert.Equal("made.txt", change.GetProperty("path").GetString());
        Assert.Equal("created", change.GetProperty("change").GetString());
        Assert.Equal(6, change.GetProperty("size_bytes").GetInt64());

        ToolCall modify = await chat.CallAsync("run_code", new { code = "open('made.txt', 'a').write('more\\n')", language = "python" });
        JsonElement modified = Assert.Single(modify.Json.GetProperty("files_changed").EnumerateArray());
        Assert.Equal("modified", modified.GetProperty("change").GetString());
    }

    [Fact]
    public async Task Bash_Timeout_KillsTheCommand()
    {
        await using ToolHarness chat = Conversation();
        ToolCall call = await chat.CallAsync("run_code", new { code = "echo start; sleep 30; echo never", language = "bash", timeout_seconds = 1 });
        Assert.True(call.Bool("timed_out"));
        Assert.Equal("start\n", call.Str("stdout"));
        Assert.True(call.Json.GetProperty("duration_ms").GetDouble() < 15_000);
    }

    [Fact]
    public async Task LargeOutput_IsTruncatedHeadAndTail_WithTheTotalByteCount()
    {
        await using ToolHarness chat = Conversation(new SandboxToolOptions { OutputHeadBytes = 100, OutputTailBytes = 100 });
        ToolCall call = await chat.CallAsync("run_code", new { code = "print('A' * 100000 + 'END')", language = "python" });
        Assert.True(call.Bool("stdout_truncated"));
        Assert.Equal(100_004, call.Long("stdout_bytes"));
        Assert.StartsWith(new string('A', 100), call.Str("stdout"), StringComparison.Ordinal);
        Assert.EndsWith("END\n", call.Str("stdout"), StringComparison.Ordinal);
        Assert.True(call.Str("stdout").Length < 400);
    }

    [Fact]
    public async Task EveryRun_GetsTheTracingEnvironment_OfTheCurrentSpan()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "Sandbox.AgentTools" or "Test.Agent",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("Test.Agent");
        await using ToolHarness chat = Conversation(new SandboxToolOptions { Tracing = { Project = "sandbox-tests", Endpoint = "http://127.0.0.1:1", ApiKey = "lsv2-secret", PassApiKeyToSandbox = false } });
        using Activity parent = source.StartActivity("agent")!;
        ToolCall call = await chat.CallAsync("run_code", new
        {
            code = "import os\nfor k in ['TRACEPARENT', 'LANGSMITH_PROJECT', 'LANGSMITH_TRACING', 'LANGSMITH_API_KEY']:\n    print(k, os.environ.get(k))",
            language = "python",
        });
        string[] lines = call.Str("stdout").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string traceparent = lines[0]["TRACEPARENT ".Length..];
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", traceparent);
        Assert.Equal(parent.TraceId.ToHexString(), traceparent.Split('-')[1]);
        Assert.NotEqual(parent.SpanId.ToHexString(), traceparent.Split('-')[2]);
        Assert.Equal("LANGSMITH_PROJECT sandbox-tests", lines[1]);
        Assert.Equal("LANGSMITH_TRACING true", lines[2]);
        Assert.Equal("LANGSMITH_API_KEY None", lines[3]);
    }
}
