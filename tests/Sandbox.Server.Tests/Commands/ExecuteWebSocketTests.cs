using System.Net.WebSockets;
using System.Text;
using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Commands;

public sealed class ExecuteWebSocketTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private SandboxInfo _box = null!;

    public async ValueTask InitializeAsync() => _box = await fixture.CreateBoxAsync();

    public async ValueTask DisposeAsync() => await fixture.DeleteBoxAsync(_box.Name);

    private static Dictionary<string, object?> Execute(string command, string? id = null, int timeout = 60, bool closeStdin = false, object? extra = null)
    {
        var frame = new Dictionary<string, object?>
        {
            ["type"] = "execute",
            ["command"] = command,
            ["timeout_seconds"] = timeout,
            ["command_id"] = id ?? Guid.NewGuid().ToString("N"),
        };
        if (closeStdin)
        {
            frame["close_stdin"] = true;
        }

        foreach (var p in extra?.GetType().GetProperties() ?? [])
        {
            frame[p.Name] = p.GetValue(extra);
        }

        return frame;
    }

    [Fact]
    public async Task Started_ReportsPidInsideTheBox_SoKillIntFromAnotherCommandInterruptsIt()
    {
        using var socket = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(socket, Execute("trap 'echo got-int; exit 7' INT; echo ready; while :; do sleep 0.05; done"));
        var started = await ServerFixture.ReceiveAsync(socket);
        Assert.Equal("started", started!.Type);
        var ready = await ServerFixture.ReceiveAsync(socket);
        Assert.Equal("ready\n", ready!.Data);

        var ps = await fixture.ExecAsync(_box.Id!, $"cat /proc/{started.Pid}/cmdline | tr '\\0' ' '; kill -INT {started.Pid}");
        Assert.Contains("trap", ps.Stdout, StringComparison.Ordinal);
        var rest = await ServerFixture.ReadToEndAsync(socket);
        Assert.Equal("got-int\n", ServerFixture.Collect(rest, "stdout"));
        Assert.Equal(7, rest[^1].ExitCode);
    }

    [Fact]
    public async Task Output_CarriesByteOffsets_AndReconnectResumesFromThem()
    {
        string id = Guid.NewGuid().ToString();
        using (var socket = await fixture.ConnectAsync(_box.Id!))
        {
            await ServerFixture.SendAsync(socket, Execute("printf 'héllo-'; sleep 0.3; printf 'wörld'; printf 'e1' >&2", id));
            var frames = await ServerFixture.ReadToEndAsync(socket);
            var stdout = frames.Where(f => f.Type == "stdout").ToList();
            long expected = 0;
            foreach (var chunk in stdout)
            {
                Assert.Equal(expected, chunk.Offset);
                expected += Encoding.UTF8.GetByteCount(chunk.Data!);
            }

            Assert.Equal("héllo-wörld", ServerFixture.Collect(frames, "stdout"));
            Assert.Equal(0, frames[^1].ExitCode);
        }

        using var again = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(again, new { type = "reconnect", command_id = id, stdout_offset = 7, stderr_offset = 1 });
        var replay = await ServerFixture.ReadToEndAsync(again);
        Assert.Equal("started", replay[0].Type);
        Assert.Equal(id, replay[0].CommandId);
        Assert.Equal("wörld", ServerFixture.Collect(replay, "stdout"));
        Assert.Equal(7, replay.First(f => f.Type == "stdout").Offset);
        Assert.Equal("1", ServerFixture.Collect(replay, "stderr"));
        Assert.Equal(0, replay[^1].ExitCode);
    }

    [Fact]
    public async Task Reconnect_UnknownCommand_IsCommandNotFound()
    {
        using var socket = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(socket, new { type = "reconnect", command_id = "nope", stdout_offset = 0, stderr_offset = 0 });
        var frame = await ServerFixture.ReceiveAsync(socket);
        Assert.Equal("error", frame!.Type);
        Assert.Equal("CommandNotFound", frame.ErrorType);
    }

    [Fact]
    public async Task Execute_WithExistingCommandId_AttachesInsteadOfStartingASecondProcess()
    {
        string id = Guid.NewGuid().ToString("N");
        string marker = "/tmp/runs-" + id;
        using var first = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(first, Execute($"echo x >> {marker}; sleep 0.5; echo done", id));
        var started1 = await ServerFixture.ReceiveAsync(first);
        using var second = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(second, Execute($"echo x >> {marker}; sleep 0.5; echo done", id));
        var frames2 = await ServerFixture.ReadToEndAsync(second);
        var frames1 = await ServerFixture.ReadToEndAsync(first);
        Assert.Equal(started1!.Pid, frames2[0].Pid);
        Assert.Equal("done\n", ServerFixture.Collect(frames1, "stdout"));
        Assert.Equal("done\n", ServerFixture.Collect(frames2, "stdout"));
        Assert.Equal("x\n", (await fixture.ExecAsync(_box.Id!, $"cat {marker}")).Stdout);
    }

    [Fact]
    public async Task Kill_EndsTheWholeProcessTree_EvenWhenTheSocketClosesRightAfter()
    {
        using (var socket = await fixture.ConnectAsync(_box.Id!))
        {
            await fixture.ExecAsync(_box.Id!, "rm -f /tmp/child.pid");
            await ServerFixture.SendAsync(socket, Execute("(sleep 300 & echo $! > /tmp/child.pid; wait) ; sleep 300"));
            Assert.Equal("started", (await ServerFixture.ReceiveAsync(socket))!.Type);
            // The background child exists before the kill (on a loaded host it can take a while to start).
            var started = DateTime.UtcNow.AddSeconds(20);
            while ((await fixture.ExecAsync(_box.Id!, "test -s /tmp/child.pid && echo yes || echo no")).Stdout.Trim() != "yes")
            {
                Assert.True(DateTime.UtcNow < started, "the command's background child did not start");
                await Task.Delay(100);
            }

            await ServerFixture.SendAsync(socket, new { type = "kill" });
            socket.Abort();
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        string alive;
        do
        {
            await Task.Delay(100);
            alive = (await fixture.ExecAsync(_box.Id!, "p=$(cat /tmp/child.pid); [ -d /proc/$p ] && echo alive || echo gone")).Stdout.Trim();
        }
        while (alive != "gone" && DateTime.UtcNow < deadline);
        Assert.Equal("gone", alive);
    }

    [Fact]
    public async Task Kill_ReportsNonZeroExit()
    {
        using var socket = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(socket, Execute("sleep 300"));
        await ServerFixture.ReceiveAsync(socket);
        await ServerFixture.SendAsync(socket, new { type = "kill" });
        var frames = await ServerFixture.ReadToEndAsync(socket);
        Assert.Equal("exit", frames[^1].Type);
        Assert.NotEqual(0, frames[^1].ExitCode);
    }

    [Fact]
    public async Task Timeout_KillsTheCommand_AndSendsCommandTimeout()
    {
        var frames = await fixture.RunWsAsync(_box.Id!, "echo before; sleep 30", new { timeout_seconds = 1 });
        Assert.Equal("before\n", ServerFixture.Collect(frames, "stdout"));
        Assert.Equal("error", frames[^1].Type);
        Assert.Equal("CommandTimeout", frames[^1].ErrorType);
    }

    [Fact]
    public async Task Stdin_StaysOpenByDefault_InputReachesTheProcess_AndCloseStdinEndsIt()
    {
        using var socket = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(socket, Execute("cat; echo eof"));
        await ServerFixture.ReceiveAsync(socket);
        await ServerFixture.SendAsync(socket, new { type = "input", data = "ping\n" });
        Assert.Equal("ping\n", (await ServerFixture.ReceiveAsync(socket))!.Data);
        await ServerFixture.SendAsync(socket, new { type = "close_stdin" });
        var rest = await ServerFixture.ReadToEndAsync(socket);
        Assert.Equal("eof\n", ServerFixture.Collect(rest, "stdout"));
        Assert.Equal(0, rest[^1].ExitCode);
    }

    [Fact]
    public async Task CloseStdinFlag_GivesEofAtSpawn()
    {
        using var socket = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(socket, Execute("cat; echo eof", closeStdin: true));
        var frames = await ServerFixture.ReadToEndAsync(socket, TimeSpan.FromSeconds(10));
        Assert.Equal("eof\n", ServerFixture.Collect(frames, "stdout"));
    }

    [Fact]
    public async Task SeveralClients_SeeTheSameOutput()
    {
        string id = Guid.NewGuid().ToString("N");
        using var a = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(a, Execute("for i in 1 2 3; do echo $i; sleep 0.2; done", id));
        await ServerFixture.ReceiveAsync(a);
        using var b = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(b, new { type = "reconnect", command_id = id, stdout_offset = 0, stderr_offset = 0 });
        var fb = ServerFixture.ReadToEndAsync(b);
        var fa = await ServerFixture.ReadToEndAsync(a);
        Assert.Equal("1\n2\n3\n", ServerFixture.Collect(fa, "stdout"));
        Assert.Equal("1\n2\n3\n", ServerFixture.Collect(await fb, "stdout"));
    }

    [Fact]
    public async Task Pty_AllocatesATerminal()
    {
        var frames = await fixture.RunWsAsync(_box.Id!, "tty -s && echo is-a-tty; echo err >&2", new { pty = true });
        string output = ServerFixture.Collect(frames, "stdout");
        Assert.Contains("is-a-tty", output, StringComparison.Ordinal);
        Assert.Contains("err", output, StringComparison.Ordinal);
        Assert.Equal(0, frames[^1].ExitCode);
    }

    [Fact]
    public async Task HugeStdout_IsStreamedWithContiguousOffsets_AndTheBufferStaysBounded()
    {
        using var socket = await fixture.ConnectAsync(_box.Id!);
        string id = Guid.NewGuid().ToString("N");
        await ServerFixture.SendAsync(socket, Execute("head -c 20000000 /dev/zero | tr '\\0' 'a'", id));
        long expected = 0;
        int exitCode = -1;
        while (await ServerFixture.ReceiveAsync(socket) is { } frame)
        {
            if (frame.Type == "stdout")
            {
                Assert.True(frame.Offset >= expected, "offsets never go backwards");
                expected = frame.Offset!.Value + frame.Data!.Length;
            }
            else if (frame.Type == "exit")
            {
                exitCode = frame.ExitCode!.Value;
                break;
            }
        }

        Assert.Equal(0, exitCode);
        Assert.Equal(20_000_000, expected);

        // A late reattach from offset 0 only gets the retained tail (256 KiB ring in this fixture).
        using var late = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(late, new { type = "reconnect", command_id = id, stdout_offset = 0, stderr_offset = 0 });
        var replay = await ServerFixture.ReadToEndAsync(late);
        var first = replay.First(f => f.Type == "stdout");
        Assert.Equal(20_000_000 - (256 * 1024), first.Offset);
        Assert.Equal(256 * 1024, ServerFixture.Collect(replay, "stdout").Length);
    }

    [Fact]
    public async Task MultiByteCharacters_AreNeverSplitAcrossFrames()
    {
        var frames = await fixture.RunWsAsync(_box.Id!, "python3 -c \"import sys,time\nfor i in range(200):\n    sys.stdout.buffer.write('😀é'.encode()[3:] if i % 2 else '😀é'.encode()[:3]); sys.stdout.flush()\"");
        foreach (var frame in frames.Where(f => f.Type == "stdout"))
        {
            Assert.DoesNotContain('\uFFFD', frame.Data!);
        }

        Assert.Equal(string.Concat(Enumerable.Repeat("😀é", 100)).Length, ServerFixture.Collect(frames, "stdout").Length);
    }

    [Fact]
    public async Task Client_RunAsync_ThroughOurSdk_WorksWithEnvCwdAndRunConfig()
    {
        var box = fixture.Client.GetSandbox(_box);
        var result = await box.RunAsync("echo $FOO $BAR; pwd", new RunOptions { RunConfig = new RunConfig { WorkDir = "/tmp", EnvVars = new Dictionary<string, string> { ["FOO"] = "1", ["BAR"] = "2" } } });
        Assert.Equal("1 2\n/tmp\n", result.Stdout);
        var timeout = await Assert.ThrowsAsync<CommandTimeoutException>(() => box.RunAsync("sleep 10", new RunOptions { Timeout = TimeSpan.FromSeconds(1) }));
        Assert.Equal("CommandTimeout", timeout.ErrorType);
    }

    [Fact]
    public async Task HttpExecute_ReturnsOutputAndExitCode()
    {
        var result = await fixture.ExecAsync(_box.Id!, "echo out; echo err >&2; exit 5");
        Assert.Equal("out\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal(5, result.ExitCode);
    }

    [Fact]
    public async Task FinishedSession_IsDiscardedAfterItsTtl_ThenReconnectIsSessionExpired()
    {
        string id = Guid.NewGuid().ToString("N");
        using (var socket = await fixture.ConnectAsync(_box.Id!))
        {
            await ServerFixture.SendAsync(socket, Execute("echo bye", id, extra: new { ttl_seconds = 1 }));
            await ServerFixture.ReadToEndAsync(socket);
        }

        await Task.Delay(1500);
        using var again = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(again, new { type = "reconnect", command_id = id, stdout_offset = 0, stderr_offset = 0 });
        var frame = await ServerFixture.ReceiveAsync(again);
        Assert.Equal("SessionExpired", frame!.ErrorType);
    }

    [Fact]
    public async Task IdleTimeout_KillsACommandNobodyIsAttachedTo_ButNotWhileAttached()
    {
        string id = Guid.NewGuid().ToString("N");
        using (var socket = await fixture.ConnectAsync(_box.Id!))
        {
            await ServerFixture.SendAsync(socket, Execute("sleep 2; echo survived-attached; sleep 300", id, extra: new { idle_timeout_seconds = 1 }));
            var frames = new List<Sandbox.Protocol.ExecutionServerFrame>();
            while (await ServerFixture.ReceiveAsync(socket) is { } f)
            {
                frames.Add(f);
                if (f.Type == "stdout")
                {
                    break;
                }
            }

            Assert.Equal("survived-attached\n", ServerFixture.Collect(frames, "stdout"));
        }

        await Task.Delay(2000);
        using var again = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(again, new { type = "reconnect", command_id = id, stdout_offset = 0, stderr_offset = 0 });
        var replay = await ServerFixture.ReadToEndAsync(again, TimeSpan.FromSeconds(10));
        Assert.Equal("exit", replay[^1].Type);
        Assert.NotEqual(0, replay[^1].ExitCode);
    }

    [Fact]
    public async Task KillOnDisconnect_KillsWhenTheLastClientLeaves()
    {
        string id = Guid.NewGuid().ToString("N");
        using (var socket = await fixture.ConnectAsync(_box.Id!))
        {
            await ServerFixture.SendAsync(socket, Execute("sleep 300", id, extra: new { kill_on_disconnect = true }));
            await ServerFixture.ReceiveAsync(socket);
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }

        await Task.Delay(500);
        using var again = await fixture.ConnectAsync(_box.Id!);
        await ServerFixture.SendAsync(again, new { type = "reconnect", command_id = id, stdout_offset = 0, stderr_offset = 0 });
        var replay = await ServerFixture.ReadToEndAsync(again, TimeSpan.FromSeconds(10));
        Assert.Equal("exit", replay[^1].Type);
        Assert.NotEqual(0, replay[^1].ExitCode);
    }

    [Fact]
    public async Task ManyBoxes_RunCommandsConcurrently()
    {
        var boxes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => fixture.CreateBoxAsync()));
        var results = await Task.WhenAll(boxes.SelectMany(b => Enumerable.Range(0, 4).Select(i => fixture.RunWsAsync(b.Id!, $"echo {b.Name}-{i}"))));
        foreach (var (frames, index) in results.Select((r, i) => (r, i)))
        {
            var box = boxes[index / 4];
            Assert.Equal($"{box.Name}-{index % 4}\n", ServerFixture.Collect(frames, "stdout"));
            Assert.Equal(0, frames[^1].ExitCode);
        }

        await Task.WhenAll(boxes.Select(b => fixture.DeleteBoxAsync(b.Name)));
    }
}
