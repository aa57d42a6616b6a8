using System.Net.WebSockets;
using System.Text.Json;
using Sandbox.Client.Tests.Infrastructure;

namespace Sandbox.Client.Tests.Commands;

public sealed class RunAsyncTests : IAsyncLifetime
{
    private FakeSandboxServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await FakeSandboxServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static async Task HappyScript(ExecConnection c, Func<ExecConnection, string, Task> body)
    {
        var setup = await c.AcceptAndReadSetupAsync();
        var id = setup.GetProperty("command_id").GetString()!;
        await c.StartedAsync(id);
        await body(c, id);
        await c.DrainAsync();
    }

    [Fact]
    public void ToWebSocketUri_MapsSchemeAndKeepsPathPrefix()
    {
        // Scenario 47
        Assert.Equal("wss://example.com/sb-123/execute/ws", WebSocketConnector.ToWebSocketUri("https://example.com/sb-123", "/execute/ws").ToString());
        Assert.Equal("ws://localhost:8080/sb-123/execute/ws", WebSocketConnector.ToWebSocketUri("http://localhost:8080/sb-123", "/execute/ws").ToString());
        Assert.Equal("wss://x.example.com/sandbox/tunnel", WebSocketConnector.ToWebSocketUri("https://x.example.com/sandbox/", "/tunnel", trimTrailingSlashes: true).ToString());
    }

    [Fact]
    public async Task RunAsync_WithDefaults_SendsExecuteFrameWithSpecDefaults()
    {
        // Scenarios 50, 37 (close_stdin default), 48 (X-Api-Key on the upgrade), 4 (default headers on the upgrade)
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(0)));
        using var client = _server.CreateClient(o => o.DefaultHeaders["X-Service-Key"] = "svc-jwt");
        var result = await _server.Instance(client).RunAsync("echo hi");

        Assert.Equal(0, result.ExitCode);
        var connection = Assert.Single(_server.ExecConnections);
        var frame = connection.Received.First();
        Assert.Equal("execute", frame.GetProperty("type").GetString());
        Assert.Equal("echo hi", frame.GetProperty("command").GetString());
        Assert.Equal(60, frame.GetProperty("timeout_seconds").GetInt32());
        Assert.Equal("/bin/bash", frame.GetProperty("shell").GetString());
        Assert.Equal(300, frame.GetProperty("idle_timeout_seconds").GetInt32());
        Assert.False(frame.GetProperty("kill_on_disconnect").GetBoolean());
        Assert.Equal(600, frame.GetProperty("ttl_seconds").GetInt32());
        Assert.True(frame.GetProperty("close_stdin").GetBoolean());
        Assert.Matches("^[0-9a-f]{32}$", frame.GetProperty("command_id").GetString());
        Assert.False(frame.TryGetProperty("env", out _));
        Assert.False(frame.TryGetProperty("cwd", out _));
        Assert.False(frame.TryGetProperty("pty", out _));
        Assert.Equal("test-key", connection.Headers["X-Api-Key"]);
        Assert.Equal("svc-jwt", connection.Headers["X-Service-Key"]);
    }

    [Fact]
    public async Task RunAsync_WithoutApiKey_SendsNoApiKeyHeaderOnUpgrade()
    {
        // Scenario 48
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(0)));
        using var client = _server.CreateClient(o => o.ApiKey = null);
        var saved = (Environment.GetEnvironmentVariable("LANGSMITH_API_KEY"), Environment.GetEnvironmentVariable("LANGCHAIN_API_KEY"));
        Assert.True(saved.Item1 is null && saved.Item2 is null, "test assumes no API key in the environment");
        await _server.Instance(client).RunAsync("true");
        Assert.False(Assert.Single(_server.ExecConnections).Headers.ContainsKey("X-Api-Key"));
    }

    [Fact]
    public async Task RunAsync_WithoutDefaultHeaders_SendsOnlyUpgradeHeadersAndApiKey()
    {
        // Scenario 4 (no extra headers at all without defaults or per-call headers)
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(0)));
        using var client = _server.CreateClient();
        await _server.Instance(client).RunAsync("true");
        var names = Assert.Single(_server.ExecConnections).Headers.Keys.Select(k => k.ToLowerInvariant()).Order().ToList();
        Assert.Equal(["connection", "host", "sec-websocket-key", "sec-websocket-version", "upgrade", "x-api-key"], names);
    }

    [Fact]
    public async Task RunAsync_PerCallApiKeyHeader_OverridesConfiguredKeyOnce()
    {
        // Scenario 5 (per-call headers override case-insensitively, one instance on the wire)
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(0)));
        using var client = _server.CreateClient();
        await _server.Instance(client).RunAsync("true", new RunOptions { Headers = new Dictionary<string, string> { ["x-api-key"] = "override-key" } });
        var headers = Assert.Single(_server.ExecConnections).RawHeaders;
        Assert.Equal(["override-key"], headers["X-Api-Key"]);
    }

    [Fact]
    public async Task RunAsync_WithEnvCwdPtyAndRunConfigFields_SendsOnlyGivenKeys()
    {
        // Scenario 40 (pty true, never close_stdin), 50 (env/cwd only when given)
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(0)));
        using var client = _server.CreateClient();
        await _server.Instance(client).RunAsync("make", new RunOptions
        {
            Env = new Dictionary<string, string> { ["CI"] = "1" },
            Cwd = "/app",
            Pty = true,
            Timeout = TimeSpan.Zero,
            IdleTimeout = Timeout.InfiniteTimeSpan,
            SessionTtl = Timeout.InfiniteTimeSpan,
            KillOnDisconnect = true,
            CommandId = "cmd-fixed",
        });
        var frame = Assert.Single(_server.ExecConnections).Received.First();
        Assert.Equal("1", frame.GetProperty("env").GetProperty("CI").GetString());
        Assert.Equal("/app", frame.GetProperty("cwd").GetString());
        Assert.True(frame.GetProperty("pty").GetBoolean());
        Assert.False(frame.TryGetProperty("close_stdin", out _));
        Assert.Equal(0, frame.GetProperty("timeout_seconds").GetInt32());
        Assert.Equal(-1, frame.GetProperty("idle_timeout_seconds").GetInt32());
        Assert.Equal(-1, frame.GetProperty("ttl_seconds").GetInt32());
        Assert.True(frame.GetProperty("kill_on_disconnect").GetBoolean());
        Assert.Equal("cmd-fixed", frame.GetProperty("command_id").GetString());
    }

    [Fact]
    public async Task RunAsync_RunConfigWithEnv_FailsClientSideWithoutConnecting()
    {
        // Delta scenario 41
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<SandboxValidationException>(() => _server.Instance(client).RunAsync("x", new RunOptions
        {
            RunConfig = new Protocol.RunConfig { WorkDir = "/w" },
            Env = new Dictionary<string, string> { ["A"] = "1" },
        }));
        Assert.Equal("run_config", error.Field);
        Assert.Empty(_server.ExecConnections);
    }

    [Fact]
    public async Task RunAsync_StreamWithInterleavedOutput_CollectsInOrderWithByteOffsets()
    {
        // Scenario 52 and 62 (callback receives each chunk once)
        _server.OnExecute(c => HappyScript(c, async (c, _) =>
        {
            await c.StdoutAsync("hello ", 0);
            await c.StdoutAsync("world\n", 6);
            await c.StderrAsync("warn", 0);
            await c.ExitAsync(0);
        }));
        using var client = _server.CreateClient();
        var seen = new List<OutputChunk>();
        var result = await _server.Instance(client).RunAsync("x", new RunOptions { OnOutput = seen.Add });

        Assert.Equal(new CommandResult("hello world\n", "warn", 0), result);
        Assert.Equal(
            [new OutputChunk(OutputStreamKind.Stdout, "hello ", 0), new OutputChunk(OutputStreamKind.Stdout, "world\n", 6), new OutputChunk(OutputStreamKind.Stderr, "warn", 0)],
            seen);
    }

    [Fact]
    public async Task StartCommandAsync_ReadOutput_ReportsPidCommandIdAndUtf8Offsets()
    {
        // Scenarios 51, 52 (last offsets 12 and 4), 53 (emoji = 4 bytes)
        _server.OnExecute(async c =>
        {
            await c.AcceptAndReadSetupAsync();
            await c.StartedAsync("cmd-123", 42);
            await c.StdoutAsync("hello ", 0);
            await c.StdoutAsync("world\n", 6);
            await c.StderrAsync("😀", 0);
            await c.ExitAsync(0);
            await c.DrainAsync();
        });
        using var client = _server.CreateClient();
        await using var handle = await _server.Instance(client).StartCommandAsync("x");
        Assert.Equal("cmd-123", handle.CommandId);
        Assert.Equal(42, handle.Pid);
        var chunks = new List<OutputChunk>();
        await foreach (var chunk in handle.ReadOutputAsync())
        {
            chunks.Add(chunk);
        }

        Assert.Equal(3, chunks.Count);
        Assert.Equal(12, handle.StdoutOffset);
        Assert.Equal(4, handle.StderrOffset);
        Assert.Equal(0, (await handle.WaitAsync()).ExitCode);
    }

    [Fact]
    public async Task StartCommandAsync_WithoutCollectingOutput_StreamsChunksButKeepsNoText()
    {
        _server.OnExecute(async c =>
        {
            await c.AcceptAndReadSetupAsync();
            await c.StartedAsync("cmd-long", 7);
            await c.StdoutAsync("first ", 0);
            await c.StderrAsync("warn", 0);
            await c.StdoutAsync("second", 6);
            await c.ExitAsync(3);
            await c.DrainAsync();
        });
        using var client = _server.CreateClient();
        await using var handle = await _server.Instance(client).StartCommandAsync("x", new RunOptions { CollectOutput = false });
        var streamed = new List<string>();
        await foreach (var chunk in handle.ReadOutputAsync())
        {
            streamed.Add(chunk.Data);
        }

        var result = await handle.WaitAsync();
        Assert.Equal(["first ", "warn", "second"], streamed);
        Assert.Equal(12, handle.StdoutOffset);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("", result.Stdout);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task RunAsync_WhenServerOffsetsJump_ReportsSkippedBytes()
    {
        // Spec §8.5.4: a jump is visible through the offsets; the result says how much output is missing.
        _server.OnExecute(c => HappyScript(c, async (c, _) =>
        {
            await c.StdoutAsync("a", 0);
            await c.StdoutAsync("b", 10);
            await c.StderrAsync("e", 0);
            await c.ExitAsync(0);
        }));
        using var client = _server.CreateClient();
        var result = await _server.Instance(client).RunAsync("x");
        Assert.Equal("ab", result.Stdout);
        Assert.Equal(9, result.StdoutSkippedBytes);
        Assert.Equal(0, result.StderrSkippedBytes);
    }

    [Fact]
    public async Task RunAsync_NonZeroExit_IsAResultNotAnException()
    {
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(127)));
        using var client = _server.CreateClient();
        Assert.Equal(127, (await _server.Instance(client).RunAsync("nope")).ExitCode);
    }

    [Fact]
    public async Task KillAndSendInput_SendExactFramesAndMarkKilled()
    {
        // Scenario 49 and delta 38/39
        var sawKill = new TaskCompletionSource<JsonElement[]>();
        _server.OnExecute(async c =>
        {
            var setup = await c.AcceptAndReadSetupAsync();
            await c.StartedAsync(setup.GetProperty("command_id").GetString()!);
            var frames = new List<JsonElement>();
            while (await c.ReceiveAsync() is { } frame)
            {
                frames.Add(frame);
                if (frame.GetProperty("type").GetString() == "kill")
                {
                    break;
                }
            }

            sawKill.SetResult([.. frames]);
            await c.ExitAsync(137);
            await c.DrainAsync();
        });
        using var client = _server.CreateClient();
        await using var handle = await _server.Instance(client).StartCommandAsync("cat", new RunOptions { CloseStdin = false });
        await handle.SendInputAsync("hello\n");
        await handle.CloseInputAsync();
        await handle.CloseInputAsync();
        await handle.KillAsync();
        Assert.True(handle.IsKilled);
        var frames = await sawKill.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(
            ["""{"type":"input","data":"hello\n"}""", """{"type":"close_stdin"}""", """{"type":"kill"}"""],
            frames.Select(f => f.GetRawText()));
        Assert.False(Assert.Single(_server.ExecConnections).Received.First().TryGetProperty("close_stdin", out _));
        var result = await handle.WaitAsync();
        Assert.Equal(137, result.ExitCode);
        await handle.KillAsync(); // socket closed: nothing is sent, no error
    }

    [Fact]
    public async Task SendInputAsync_WhenStdinClosedByDefault_ThrowsWithoutSending()
    {
        // Delta scenario 39
        _server.OnExecute(c => HappyScript(c, async (c, _) => { await Task.Delay(200); await c.ExitAsync(0); }));
        using var client = _server.CreateClient();
        await using var handle = await _server.Instance(client).StartCommandAsync("cat");
        var error = await Assert.ThrowsAsync<SandboxOperationException>(() => handle.SendInputAsync("x"));
        Assert.Equal("sendInput", error.Operation);
        await handle.WaitAsync();
        Assert.DoesNotContain(Assert.Single(_server.ExecConnections).Received, f => f.GetProperty("type").GetString() == "input");
    }

    [Fact]
    public async Task RunAsync_FirstFrameNotStarted_ThrowsOperationErrorWithoutRetry()
    {
        // Scenario 54
        _server.OnEveryExecute(async c =>
        {
            await c.AcceptAndReadSetupAsync();
            await c.StdoutAsync("x", 0);
            await c.DrainAsync();
        });
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<SandboxOperationException>(() => _server.Instance(client).RunAsync("x"));
        Assert.Contains("Expected 'started' message, got 'stdout'", error.Message);
        Assert.Single(_server.ExecConnections);
    }

    [Fact]
    public async Task RunAsync_WhenStreamEndsBeforeStarted_RetriesWithSameCommandId()
    {
        // Scenario 55
        _server.OnExecute(async c =>
        {
            await c.AcceptAndReadSetupAsync();
            await c.CloseAsync();
        });
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(0)));
        var sleeps = new List<TimeSpan>();
        using var client = _server.CreateClient(o => o.DelayOverride = (d, _) => { sleeps.Add(d); return Task.CompletedTask; });
        var result = await _server.Instance(client).RunAsync("x");

        Assert.Equal(0, result.ExitCode);
        var ids = _server.ExecConnections.Select(c => c.Received.First().GetProperty("command_id").GetString()).ToList();
        Assert.Equal(2, ids.Count);
        Assert.Equal(ids[0], ids[1]);
        Assert.Equal([TimeSpan.FromSeconds(0.5)], sleeps);
    }

    [Theory]
    [InlineData(502)]
    [InlineData(503)]
    public async Task RunAsync_WhenUpgradeRejectedWith5xx_RetriesWithSameCommandId(int status)
    {
        // Scenario 56
        _server.OnExecute(c => c.RejectAsync(status));
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(0)));
        using var client = _server.CreateClient();
        Assert.Equal(0, (await _server.Instance(client).RunAsync("x", new RunOptions { CommandId = "same-id" })).ExitCode);
        Assert.Equal(2, _server.ExecConnections.Count);
        Assert.Equal("same-id", _server.ExecConnections.Last().Received.First().GetProperty("command_id").GetString());
    }

    [Fact]
    public async Task RunAsync_WhenUpgradeRejectedWith404_FailsOnceMentioningHttp404()
    {
        // Scenarios 56, 59
        _server.OnEveryExecute(c => c.RejectAsync(404));
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => _server.Instance(client).RunAsync("x"));
        Assert.IsNotType<SandboxRetryableConnectionException>(error);
        Assert.Contains("execute/ws returned 404", error.Message);
        Assert.Contains("HTTP 404", error.Message);
        Assert.Single(_server.ExecConnections);
        Assert.Empty(_server.Requests); // scenario 61: no fallback to POST /execute
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(505)]
    public async Task RunAsync_WhenUpgradeRejectedWithOtherStatus_RaisesNonRetryableConnectionError(int status)
    {
        // Scenarios 59, 60
        _server.OnEveryExecute(c => c.RejectAsync(status));
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => _server.Instance(client).RunAsync("x"));
        Assert.IsNotType<SandboxRetryableConnectionException>(error);
        Assert.Contains($"HTTP {status}", error.Message);
        Assert.Single(_server.ExecConnections);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task RunAsync_WhenUpgradeRejectedWithServerError_RaisesRetryableErrorWithErrorId(int status)
    {
        // Scenarios 57 (gives up after 6 attempts), 59 (error_id from the JSON body)
        _server.OnEveryExecute(c => c.RejectAsync(status, FakeSandboxServer.Detail("Unavailable", "router overloaded", "e-42")));
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<SandboxRetryableConnectionException>(() => _server.Instance(client).RunAsync("x"));
        Assert.Contains("router overloaded (error_id=e-42)", error.Message);
        Assert.Equal(6, _server.ExecConnections.Count);
    }

    [Fact]
    public async Task RunAsync_WhenUpgradeRejectedWithNonJsonBody_DoesNotEchoBody()
    {
        // Scenario 59
        _server.OnEveryExecute(c => c.RejectAsync(502, "<html>secret upstream page</html>"));
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<SandboxRetryableConnectionException>(() => _server.Instance(client).RunAsync("x"));
        Assert.DoesNotContain("secret upstream page", error.Message);
    }

    [Fact]
    public async Task RunAsync_WhenEveryAttemptEndsEarly_GivesUpAfterSixAttempts()
    {
        // Scenario 57
        _server.OnEveryExecute(async c =>
        {
            await c.AcceptAndReadSetupAsync();
            await c.CloseAsync();
        });
        var sleeps = new List<TimeSpan>();
        using var client = _server.CreateClient(o => o.DelayOverride = (d, _) => { sleeps.Add(d); return Task.CompletedTask; });
        var error = await Assert.ThrowsAsync<StreamEndedBeforeStartedException>(() => _server.Instance(client).RunAsync("x"));
        Assert.Contains("before the 'started' message", error.Message);
        Assert.Equal(6, _server.ExecConnections.Count);
        Assert.Equal([0.5, 1, 2, 4, 8], sleeps.Select(s => s.TotalSeconds));
    }

    [Fact]
    public async Task RunAsync_Upgrade429WithRetryAfter_WaitsThatLongAndRetriesSameCommand()
    {
        // Delta scenario 43
        _server.OnExecute(c => c.RejectAsync(429, null, new Dictionary<string, string> { ["Retry-After"] = "2" }));
        _server.OnExecute(c => c.RejectAsync(429, null, new Dictionary<string, string> { ["Retry-After"] = "Wed, 21 Oct 2026 07:28:00 GMT" }));
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(0)));
        var sleeps = new List<TimeSpan>();
        using var client = _server.CreateClient(o =>
        {
            o.DelayOverride = (d, _) => { sleeps.Add(d); return Task.CompletedTask; };
            o.RandomSource = () => 0;
        });
        Assert.Equal(0, (await _server.Instance(client).RunAsync("x")).ExitCode);
        Assert.Equal(3, _server.ExecConnections.Select(c => c.Received.FirstOrDefault()).Count());
        Assert.Equal(TimeSpan.FromSeconds(2), sleeps[0]);
        Assert.Equal(TimeSpan.FromSeconds(1 * 0.8), sleeps[1]); // HTTP-date ignored: jittered backoff min(0.5·2^1, 8)·0.8
    }

    [Fact]
    public async Task RunAsync_WhenEveryOpenTimesOut_StaysWithinConnectBudget()
    {
        // Scenario 58: the fake clock burns each whole open timeout.
        var time = new TimeoutBurningTimeProvider();
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start(); // accepts TCP but never answers the upgrade
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var sleeps = new List<TimeSpan>();
        using var client = _server.CreateClient(o =>
        {
            o.TimeProvider = time;
            o.DelayOverride = (d, _) => { sleeps.Add(d); time.Advance(d); return Task.CompletedTask; };
        });
        var started = time.GetUtcNow();
        var box = _server.Instance(client, $"http://127.0.0.1:{port}/dp/sb-1");
        await Assert.ThrowsAsync<SandboxConnectTimeoutException>(() => box.RunAsync("x"));

        var openTimeouts = time.TimerDueTimes.Where(t => t > TimeSpan.Zero).ToList();
        Assert.Equal(TimeSpan.FromSeconds(30), openTimeouts[0]);
        Assert.True(openTimeouts.Aggregate(TimeSpan.Zero, (a, b) => a + b) <= TimeSpan.FromSeconds(120));
        Assert.True(time.GetUtcNow() - started <= TimeSpan.FromSeconds(120));
        Assert.DoesNotContain(TimeSpan.Zero, openTimeouts);
        Assert.True(openTimeouts.Count > 1, "connect timeouts are retried");
    }

    [Fact]
    public async Task RunAsync_WhenClosedWith1001BeforeStarted_RetriesLikeCleanClose()
    {
        // Spec §8.5.8 (Python: the websockets library reports 1001 like 1000 before 'started')
        _server.OnExecute(async c =>
        {
            await c.AcceptAndReadSetupAsync();
            await c.CloseAsync(WebSocketCloseStatus.EndpointUnavailable);
        });
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ExitAsync(0)));
        using var client = _server.CreateClient();
        Assert.Equal(0, (await _server.Instance(client).RunAsync("x")).ExitCode);
        Assert.Equal(2, _server.ExecConnections.Count);
    }

    [Fact]
    public async Task RunAsync_WhenClosedAbnormallyBeforeStarted_PropagatesWithoutRetry()
    {
        // Spec §8.5.8 (any other close code before 'started' is not retried)
        _server.OnEveryExecute(async c =>
        {
            await c.AcceptAndReadSetupAsync();
            await c.CloseAsync(WebSocketCloseStatus.InternalServerError);
        });
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => _server.Instance(client).RunAsync("x"));
        Assert.Contains("code 1011", error.Message);
        Assert.Single(_server.ExecConnections);
    }

    [Fact]
    public async Task RunAsync_CancelledByCaller_SurfacesPlainCancellationAndDetaches()
    {
        _server.OnExecute(async c =>
        {
            var setup = await c.AcceptAndReadSetupAsync();
            await c.StartedAsync(setup.GetProperty("command_id").GetString()!);
            await c.DrainAsync();
        });
        using var client = _server.CreateClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _server.Instance(client).RunAsync("sleep 100", cancellationToken: cts.Token));
        var connection = Assert.Single(_server.ExecConnections);
        await connection.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(connection.Received, f => f.GetProperty("type").GetString() == "kill");
    }

    [Fact]
    public async Task RunAsync_WhenPeerIsNotHttp_RaisesNoValidHttpResponse()
    {
        // Scenario 59 (non-HTTP answer)
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var socket = await listener.AcceptSocketAsync();
                await socket.SendAsync("SSH-2.0-OpenSSH\r\n\r\n"u8.ToArray());
                socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            }
        });
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => _server.Instance(client, $"http://127.0.0.1:{port}/dp/sb-1").RunAsync("x"));
        Assert.Contains("no valid HTTP response", error.Message);
        Assert.Contains("may be stopped or unreachable", error.Message);
    }

    [Fact]
    public async Task RunAsync_CommandTimeoutErrorFrame_ThrowsCommandTimeoutException()
    {
        // Scenario 71
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ErrorAsync("CommandTimeout", "Command timed out after 60s")));
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<CommandTimeoutException>(() => _server.Instance(client).RunAsync("sleep 100"));
        Assert.Equal("command", error.Operation);
        Assert.Equal("CommandTimeout", error.ErrorType);
        Assert.Contains("Command timed out after 60s", error.Message);
    }

    [Theory]
    [InlineData("Weird", "boom", "Weird")]
    [InlineData(null, "boom", "CommandError")]
    public async Task RunAsync_OtherErrorFrames_ThrowOperationErrorWithServerText(string? type, string text, string expectedType)
    {
        // Scenario 71
        _server.OnExecute(c => HappyScript(c, (c, _) => c.ErrorAsync(type, text)));
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<SandboxOperationException>(() => _server.Instance(client).RunAsync("x"));
        Assert.Equal(expectedType, error.ErrorType);
        Assert.Equal("command", error.Operation);
        Assert.Contains(text, error.Message);
    }

    [Fact]
    public async Task RunAsync_UnknownFrameTypes_AreIgnored()
    {
        _server.OnExecute(c => HappyScript(c, async (c, _) =>
        {
            await c.SendAsync(new { type = "progress", pct = 50 });
            await c.StdoutAsync("ok", 0);
            await c.ExitAsync(0);
        }));
        using var client = _server.CreateClient();
        Assert.Equal("ok", (await _server.Instance(client).RunAsync("x")).Stdout);
    }

    [Fact]
    public async Task RunAsync_WithoutDataplane_FailsClientSideNamingSandbox()
    {
        // Scenario 38
        using var client = _server.CreateClient();
        var box = client.GetSandbox(_server.Box() with { DataplaneUrl = null, Status = "stopped" });
        var error = await Assert.ThrowsAsync<DataplaneNotConfiguredException>(() => box.RunAsync("x"));
        Assert.Contains("sb-1", error.Message);
        Assert.Contains("dataplane_url", error.Message);
        await Assert.ThrowsAsync<DataplaneNotConfiguredException>(() => box.ReadFileAsync("/a"));
        await Assert.ThrowsAsync<DataplaneNotConfiguredException>(() => box.WriteFileAsync("/a", "x"));
        Assert.Empty(_server.ExecConnections);
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task StartCommandAsync_WithOnOutputCallback_IsRejected()
    {
        // Scenario 62 (Py: wait=False with callbacks rejected)
        using var client = _server.CreateClient();
        await Assert.ThrowsAsync<SandboxValidationException>(() => _server.Instance(client).StartCommandAsync("x", new RunOptions { OnOutput = _ => { } }));
        Assert.Empty(_server.ExecConnections);
    }

    [Fact]
    public async Task DisposeAsync_BeforeExit_DetachesWithoutKilling()
    {
        _server.OnExecute(async c =>
        {
            var setup = await c.AcceptAndReadSetupAsync();
            await c.StartedAsync(setup.GetProperty("command_id").GetString()!);
            await c.DrainAsync();
        });
        using var client = _server.CreateClient();
        var handle = await _server.Instance(client).StartCommandAsync("sleep 10");
        await handle.DisposeAsync();
        var connection = Assert.Single(_server.ExecConnections);
        await connection.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(connection.Received, f => f.GetProperty("type").GetString() == "kill");
        Assert.Equal(WebSocketCloseStatus.InternalServerError, connection.ClientCloseStatus);
    }
}
