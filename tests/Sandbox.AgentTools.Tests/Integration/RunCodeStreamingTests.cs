using System.Collections.Concurrent;
using System.Text;

namespace Sandbox.AgentTools.Tests;

/// <summary><see cref="SandboxToolOptions.OnOutput"/>: a call's output reaches the host while the call runs.</summary>
[Collection(LocalServerCollection.Name)]
public sealed class RunCodeStreamingTests(LocalServerFixture fixture)
{
    private static readonly TimeSpan FirstChunkTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Python_LinesReachTheCallbackBeforeTheCallReturns_AndMatchTheResult()
    {
        var chunks = new ConcurrentQueue<ToolOutputChunk>();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new SandboxToolOptions
        {
            OnOutput = chunk =>
            {
                chunks.Enqueue(chunk);
                first.TrySetResult();
            },
        };
        await using ToolHarness chat = Conversation(options);
        // A second call on the same interpreter: the first one's marker lines must not leak into either call's chunks.
        ToolCall warmup = await chat.CallAsync("run_code", new { code = "import sys, time\nprint('warm')", language = "python" }, "call-warm");
        Assert.Equal("warm\n", warmup.Str("stdout"));

        Task<ToolCall> running = chat.CallAsync("run_code", new
        {
            code = "for i in range(4):\n    print(f'line {i}')\n    time.sleep(0.5)\nprint('oops', file=sys.stderr)\n'end'",
            language = "python",
        }, "call-7");
        await first.Task.WaitAsync(FirstChunkTimeout);
        Assert.False(running.IsCompleted, "the first chunk arrived only after the call returned");
        ToolCall call = await running;

        Assert.Equal("ok", call.Str("status"));
        Assert.Equal("line 0\nline 1\nline 2\nline 3\n'end'\n", call.Str("stdout"));
        List<ToolOutputChunk> ofCall = [.. chunks.Where(c => c.ToolCallId == "call-7")];
        Assert.True(ofCall.Count > 1, "expected several chunks, got " + ofCall.Count);
        Assert.Equal(call.Str("stdout"), Text(ofCall, ToolOutputStream.Stdout));
        Assert.Equal(call.Str("stderr"), Text(ofCall, ToolOutputStream.Stderr));
        Assert.Equal("oops\n", call.Str("stderr"));
        Assert.Equal("warm\n", Text([.. chunks.Where(c => c.ToolCallId == "call-warm")], ToolOutputStream.Stdout));
        Assert.All(chunks, c =>
        {
            Assert.Equal(chat.ConversationId, c.ConversationId);
            Assert.Equal("python", c.Language);
            Assert.DoesNotContain('\u001e', c.Text);
            Assert.DoesNotContain("SANDBOX-", c.Text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"status\"", c.Text, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task JavaScript_OutputIsForwarded_WithoutProtocolText()
    {
        var chunks = new ConcurrentQueue<ToolOutputChunk>();
        await using ToolHarness chat = Conversation(new SandboxToolOptions { OnOutput = chunks.Enqueue });
        ToolCall call = await chat.CallAsync("run_code", new { code = "console.log('a'); console.error('b'); console.log('c')", language = "javascript" });

        Assert.Equal("ok", call.Str("status"));
        Assert.Equal("a\nc\n", call.Str("stdout"));
        Assert.Equal("a\nc\n", Text([.. chunks], ToolOutputStream.Stdout));
        Assert.Equal(call.Str("stderr"), Text([.. chunks], ToolOutputStream.Stderr));
        Assert.All(chunks, c =>
        {
            Assert.Equal("javascript", c.Language);
            Assert.Null(c.ToolCallId);
            Assert.DoesNotContain('\u001e', c.Text);
        });
    }

    [Fact]
    public async Task Bash_OutputStreamsWhileTheCommandRuns()
    {
        var chunks = new ConcurrentQueue<ToolOutputChunk>();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new SandboxToolOptions
        {
            OnOutput = chunk =>
            {
                chunks.Enqueue(chunk);
                first.TrySetResult();
            },
        };
        await using ToolHarness chat = Conversation(options);
        Task<ToolCall> running = chat.CallAsync("run_code", new { code = "echo one; sleep 2; echo two; echo bad >&2; exit 4", language = "bash" }, "call-b");
        await first.Task.WaitAsync(FirstChunkTimeout);
        Assert.False(running.IsCompleted, "the first chunk arrived only after the call returned");
        ToolCall call = await running;

        Assert.Equal("error", call.Str("status"));
        Assert.Equal(4, call.Long("exit_code"));
        Assert.Equal("one\ntwo\n", call.Str("stdout"));
        Assert.Equal("one\ntwo\n", Text([.. chunks], ToolOutputStream.Stdout));
        Assert.Equal("bad\n", Text([.. chunks], ToolOutputStream.Stderr));
        Assert.All(chunks, c =>
        {
            Assert.Equal("bash", c.Language);
            Assert.Equal("call-b", c.ToolCallId);
            Assert.Equal(chat.ConversationId, c.ConversationId);
        });
    }

    [Fact]
    public async Task CallbackGetsTheWholeOutput_WhileTheResultKeepsItsTruncation()
    {
        var chunks = new ConcurrentQueue<ToolOutputChunk>();
        var options = new SandboxToolOptions { OnOutput = chunks.Enqueue, OutputHeadBytes = 64, OutputTailBytes = 64 };
        await using ToolHarness chat = Conversation(options);
        ToolCall call = await chat.CallAsync("run_code", new { code = "for i in range(500):\n    print(f'row {i:03}')", language = "python" });

        string expected = string.Concat(Enumerable.Range(0, 500).Select(i => $"row {i:000}\n"));
        Assert.True(call.Bool("stdout_truncated"));
        Assert.Equal(Encoding.UTF8.GetByteCount(expected), call.Long("stdout_bytes"));
        Assert.Contains("bytes omitted", call.Str("stdout"), StringComparison.Ordinal);
        Assert.Equal(expected, Text([.. chunks], ToolOutputStream.Stdout));
    }

    [Fact]
    public async Task ThrowingCallback_LeavesTheResultAndTheInterpreterIntact()
    {
        int calls = 0;
        var options = new SandboxToolOptions
        {
            OnOutput = _ =>
            {
                Interlocked.Increment(ref calls);
                throw new InvalidOperationException("host display failed");
            },
        };
        await using ToolHarness chat = Conversation(options);
        ToolCall python = await chat.CallAsync("run_code", new { code = "import time\nx = 5\nprint('a')\ntime.sleep(0.2)\nprint('b')", language = "python" });
        ToolCall again = await chat.CallAsync("run_code", new { code = "print(x * 2)", language = "python" });
        ToolCall bash = await chat.CallAsync("run_code", new { code = "echo out; echo err >&2", language = "bash" });

        Assert.Equal("ok", python.Str("status"));
        Assert.Equal("a\nb\n", python.Str("stdout"));
        Assert.Equal(4, python.Long("stdout_bytes"));
        Assert.False(python.Bool("stdout_truncated"));
        Assert.Equal("ok", again.Str("status"));
        Assert.Equal("10\n", again.Str("stdout"));
        Assert.False(again.Bool("state_lost"));
        Assert.Equal("ok", bash.Str("status"));
        Assert.Equal("out\n", bash.Str("stdout"));
        Assert.Equal("err\n", bash.Str("stderr"));
        Assert.True(Volatile.Read(ref calls) >= 4, "the callback was called " + calls + " times");
    }

    private ToolHarness Conversation(SandboxToolOptions options) => new(fixture.Pool, "conv-" + Guid.NewGuid().ToString("N")[..8], options);

    private static string Text(IEnumerable<ToolOutputChunk> chunks, ToolOutputStream stream) =>
        string.Concat(chunks.Where(c => c.Stream == stream).Select(c => c.Text));
}
