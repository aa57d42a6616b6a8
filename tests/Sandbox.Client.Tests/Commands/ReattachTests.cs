using System.Net.WebSockets;
using System.Text.Json;
using Sandbox.Client.Tests.Infrastructure;

namespace Sandbox.Client.Tests.Commands;

public sealed class ReattachTests : IAsyncLifetime
{
    private readonly List<TimeSpan> _sleeps = [];
    private FakeSandboxServer _server = null!;
    private SandboxClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeSandboxServer.StartAsync();
        _client = _server.CreateClient(o => o.DelayOverride = (d, _) =>
        {
            lock (_sleeps)
            {
                _sleeps.Add(d);
            }

            return Task.CompletedTask;
        });
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private static Func<ExecConnection, Task> Start(string id, Func<ExecConnection, Task> then) => async c =>
    {
        await c.AcceptAndReadSetupAsync();
        await c.StartedAsync(id);
        await then(c);
    };

    private static Func<ExecConnection, Task> Reattach(Func<ExecConnection, JsonElement, Task> then) => async c =>
    {
        var setup = await c.AcceptAndReadSetupAsync();
        await then(c, setup);
    };

    private List<JsonElement> ReconnectFrames() =>
        [.. _server.ExecConnections.Skip(1).Select(c => c.Received.First())];

    [Fact]
    public async Task WaitAsync_WhenStreamEndsWithoutExit_ReattachesFromOffsetsAfterHalfSecond()
    {
        // Scenario 63
        _server.OnExecute(Start("cmd-123", async c => { await c.StdoutAsync("data", 0); await c.CloseAsync(); }));
        _server.OnExecute(Reattach(async (c, _) => { await c.ExitAsync(0); await c.DrainAsync(); }));
        var result = await _server.Instance(_client).RunAsync("x");

        Assert.Equal(new CommandResult("data", "", 0), result);
        var reconnect = Assert.Single(ReconnectFrames());
        Assert.Equal("""{"type":"reconnect","command_id":"cmd-123","stdout_offset":4,"stderr_offset":0}""", reconnect.GetRawText());
        Assert.Equal([TimeSpan.FromSeconds(0.5)], _sleeps);
    }

    [Fact]
    public async Task ReadOutputAsync_WhenConnectionDrops_ResumesAndCallbackSeesEveryChunkOnce()
    {
        // Scenarios 64 and 62 (callbacks after reattach)
        _server.OnExecute(Start("cmd-1", async c =>
        {
            await c.StdoutAsync("part1", 0);
            await Task.Delay(300); // let the frames arrive before the reset discards unread data
            c.Abort();
        }));
        _server.OnExecute(Reattach(async (c, _) => { await c.StdoutAsync("part2", 5); await c.ExitAsync(0); await c.DrainAsync(); }));
        var seen = new List<string>();
        var result = await _server.Instance(_client).RunAsync("x", new RunOptions { OnOutput = chunk => seen.Add(chunk.Data) });

        Assert.Equal(["part1", "part2"], seen);
        Assert.Equal("part1part2", result.Stdout);
        Assert.Equal([TimeSpan.FromSeconds(0.5)], _sleeps);
    }

    [Fact]
    public async Task WaitAsync_WhenServerReloads_ReattachesWithoutSleeping()
    {
        // Scenario 65 (close 1001 after started)
        _server.OnExecute(Start("cmd-1", c => c.CloseAsync(WebSocketCloseStatus.EndpointUnavailable)));
        _server.OnExecute(Reattach(async (c, _) => { await c.StartedAsync("cmd-1"); await c.ExitAsync(3); await c.DrainAsync(); }));
        var result = await _server.Instance(_client).RunAsync("x");
        Assert.Equal(3, result.ExitCode);
        Assert.Empty(_sleeps);
    }

    [Fact]
    public async Task WaitAsync_WhenEveryReattachFails_GivesUpAfterFiveAttempts()
    {
        // Scenario 66
        _server.OnExecute(Start("cmd-1", c => c.CloseAsync()));
        _server.OnEveryExecute(Reattach((c, _) => c.CloseAsync()));
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => _server.Instance(_client).RunAsync("x"));
        Assert.Contains("giving up", error.Message);
        Assert.Equal(5, ReconnectFrames().Count);
        Assert.Equal([0.5, 1, 2, 4, 8], _sleeps.Select(s => s.TotalSeconds));
    }

    [Fact]
    public async Task WaitAsync_AfterKill_ConnectionLossIsNotReattached()
    {
        // Scenario 66 (after kill(), a connection error is re-raised without reattach)
        var killed = new TaskCompletionSource();
        _server.OnExecute(Start("cmd-1", async c =>
        {
            while (await c.ReceiveAsync() is { } frame)
            {
                if (frame.GetProperty("type").GetString() == "kill")
                {
                    break;
                }
            }

            c.Abort();
        }));
        await using var handle = await _server.Instance(_client).StartCommandAsync("sleep 100");
        await handle.KillAsync();
        await Assert.ThrowsAsync<SandboxConnectionException>(() => handle.WaitAsync());
        Assert.Single(_server.ExecConnections);
    }

    [Fact]
    public async Task WaitAsync_WithOutputBeforeEveryLoss_SurvivesMoreThanFiveLosses()
    {
        // Scenario 67
        _server.OnExecute(Start("cmd-1", async c => { await c.StdoutAsync("0", 0); await c.CloseAsync(); }));
        for (var i = 1; i <= 8; i++)
        {
            var n = i;
            _server.OnExecute(Reattach(async (c, _) => { await c.StdoutAsync(n.ToString(System.Globalization.CultureInfo.InvariantCulture), n); await c.CloseAsync(); }));
        }

        _server.OnExecute(Reattach(async (c, _) => { await c.ExitAsync(0); await c.DrainAsync(); }));
        var result = await _server.Instance(_client).RunAsync("x");
        Assert.Equal("012345678", result.Stdout);
        Assert.All(_sleeps, s => Assert.Equal(TimeSpan.FromSeconds(0.5), s));
    }

    [Fact]
    public async Task WaitAsync_AcknowledgedSilentLosses_ResetBudgetAndReportExit()
    {
        // Scenario 68 (matching acknowledgement resets the budget)
        _server.OnExecute(Start("cmd-1", c => c.CloseAsync()));
        for (var i = 0; i < 8; i++)
        {
            _server.OnExecute(Reattach(async (c, setup) => { await c.StartedAsync(setup.GetProperty("command_id").GetString()!); await c.CloseAsync(); }));
        }

        _server.OnExecute(Reattach(async (c, _) => { await c.StartedAsync("cmd-1"); await c.ExitAsync(7); await c.DrainAsync(); }));
        Assert.Equal(7, (await _server.Instance(_client).RunAsync("x")).ExitCode);
        Assert.Equal(9, ReconnectFrames().Count);
    }

    [Fact]
    public async Task WaitAsync_AcknowledgementsForAnotherCommand_DoNotResetBudget()
    {
        // Scenario 68 (foreign acknowledgements: exactly 5 reattach attempts)
        _server.OnExecute(Start("cmd-1", c => c.CloseAsync()));
        _server.OnEveryExecute(Reattach(async (c, _) => { await c.StartedAsync("someone-elses-cmd"); await c.CloseAsync(); }));
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => _server.Instance(_client).RunAsync("x"));
        Assert.Contains("giving up", error.Message);
        Assert.Equal(5, ReconnectFrames().Count);
    }

    [Fact]
    public async Task ReadOutputAsync_Acknowledgement_ProducesNoChunkAndKeepsOffsets()
    {
        // Scenario 69
        _server.OnExecute(Start("cmd-1", async c => { await c.StdoutAsync("before", 0); await c.CloseAsync(); }));
        _server.OnExecute(Reattach(async (c, _) =>
        {
            await c.StartedAsync("cmd-1");
            await c.StdoutAsync("after", 6);
            await c.ExitAsync(0);
            await c.DrainAsync();
        }));
        var chunks = new List<string>();
        var result = await _server.Instance(_client).RunAsync("x", new RunOptions { OnOutput = c => chunks.Add(c.Data) });
        Assert.Equal(["before", "after"], chunks);
        Assert.Equal("beforeafter", result.Stdout);
        Assert.Equal(6, Assert.Single(ReconnectFrames()).GetProperty("stdout_offset").GetInt64());
    }

    [Theory]
    [InlineData("CommandNotFound", "Command not found: cmd-1")]
    [InlineData("SessionExpired", "Session expired: cmd-1")]
    public async Task WaitAsync_ReattachAnsweredWithGoneCommand_FailsAfterOneAttempt(string errorType, string message)
    {
        // Scenario 70
        _server.OnExecute(Start("cmd-1", c => c.CloseAsync()));
        _server.OnEveryExecute(Reattach(async (c, _) => { await c.ErrorAsync(errorType, "gone"); await c.DrainAsync(); }));
        var error = await Assert.ThrowsAsync<SandboxOperationException>(() => _server.Instance(_client).RunAsync("x"));
        Assert.Contains(message, error.Message);
        Assert.Equal("reconnect", error.Operation);
        Assert.Equal(errorType, error.ErrorType);
        Assert.Single(ReconnectFrames());
    }

    [Fact]
    public async Task ReconnectAsync_SendsGivenOffsetsAndDoesNotRequireStarted()
    {
        // Scenarios 72, 73
        _server.OnExecute(Reattach(async (c, _) =>
        {
            await c.StartedAsync("cmd-123", 77);
            await c.StdoutAsync("data", 100);
            await c.ExitAsync(0);
            await c.DrainAsync();
        }));
        await using var handle = await _server.Instance(_client).ReconnectAsync("cmd-123", stdoutOffset: 100, stderrOffset: 50);
        var chunks = new List<OutputChunk>();
        await foreach (var chunk in handle.ReadOutputAsync())
        {
            chunks.Add(chunk);
        }

        Assert.Equal([new OutputChunk(OutputStreamKind.Stdout, "data", 100)], chunks);
        Assert.Equal(104, handle.StdoutOffset);
        Assert.Equal(77, handle.Pid);
        Assert.Equal(
            """{"type":"reconnect","command_id":"cmd-123","stdout_offset":100,"stderr_offset":50}""",
            Assert.Single(_server.ExecConnections).Received.First().GetRawText());
    }

    [Fact]
    public async Task ReconnectAsync_UnknownCommand_ReportsReconnectOperation()
    {
        _server.OnExecute(Reattach(async (c, _) => { await c.ErrorAsync("CommandNotFound", "no such command"); await c.DrainAsync(); }));
        await using var handle = await _server.Instance(_client).ReconnectAsync("missing");
        var error = await Assert.ThrowsAsync<SandboxOperationException>(() => handle.WaitAsync());
        Assert.Equal("reconnect", error.Operation);
        Assert.Contains("Command not found: missing", error.Message);
    }

    [Fact]
    public async Task WaitAsync_WhenReattachConnectTimesOut_RetriesTheReattach()
    {
        // Scenario 74
        _server.OnExecute(Start("cmd-1", c => c.CloseAsync()));
        _server.OnExecute(c => c.RejectAsync(503));
        _server.OnExecute(Reattach(async (c, _) => { await c.ExitAsync(0); await c.DrainAsync(); }));
        Assert.Equal(0, (await _server.Instance(_client).RunAsync("x")).ExitCode);
        Assert.Equal(3, _server.ExecConnections.Count);
        Assert.Equal(2, _sleeps.Count);
    }

    [Fact]
    public async Task CloseInputAsync_AfterDrop_IsSentOnTheReattachedSocket()
    {
        // Delta scenario 44
        var gotClose = new TaskCompletionSource<JsonElement>();
        var dropped = new TaskCompletionSource();
        _server.OnExecute(Start("cmd-1", async c => { await dropped.Task; await c.CloseAsync(); }));
        _server.OnExecute(Reattach(async (c, _) =>
        {
            var frame = await c.ReceiveAsync();
            gotClose.SetResult(frame!.Value);
            await c.ExitAsync(0);
            await c.DrainAsync();
        }));
        await using var handle = await _server.Instance(_client).StartCommandAsync("cat", new RunOptions { CloseStdin = false });
        dropped.SetResult();
        var wait = handle.WaitAsync();
        await handle.CloseInputAsync();
        Assert.Equal(0, (await wait).ExitCode);
        Assert.Equal("close_stdin", (await gotClose.Task.WaitAsync(TimeSpan.FromSeconds(10))).GetProperty("type").GetString());
    }

    [Fact]
    public async Task DisposeAsync_WhileReading_DoesNotReattach()
    {
        _server.OnExecute(Start("cmd-1", c => c.DrainAsync()));
        _server.OnEveryExecute(Reattach((c, _) => c.DrainAsync()));
        var handle = await _server.Instance(_client).StartCommandAsync("sleep 100");
        var reading = Task.Run(async () =>
        {
            await foreach (var chunk in handle.ReadOutputAsync())
            {
                _ = chunk;
            }
        });
        await Task.Delay(200);
        await handle.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => reading.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Single(_server.ExecConnections);
    }
}
