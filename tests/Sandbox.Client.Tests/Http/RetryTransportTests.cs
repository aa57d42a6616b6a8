using System.Net;
using Sandbox.Client.Tests.Infrastructure;

namespace Sandbox.Client.Tests.Http;

public sealed class RetryTransportTests : IAsyncLifetime
{
    private readonly List<TimeSpan> _sleeps = [];
    private FakeSandboxServer _server = null!;
    private SandboxClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeSandboxServer.StartAsync();
        _client = _server.CreateClient(o =>
        {
            o.DelayOverride = (d, _) => { _sleeps.Add(d); return Task.CompletedTask; };
            o.RandomSource = () => 0.25;
        });
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task Request_RetriesGatewayErrorsThenReturnsSuccess(int status)
    {
        // Scenario 43
        _server.OnJson("GET", "/boxes/sb-1", status, new { detail = "busy" }, times: 2);
        _server.OnJson("GET", "/boxes/sb-1", 200, _server.Box());
        Assert.Equal("sb-1", (await _client.GetSandboxAsync("sb-1")).Name);
        Assert.Equal(3, _server.Requests.Count);
        Assert.Equal([1.25, 2.25], _sleeps.Select(s => s.TotalSeconds));
    }

    [Fact]
    public async Task Request_AfterThreeRetries_ReturnsTheLastGatewayError()
    {
        // Scenario 43 (4 calls, non-decreasing sleeps, capped at 10 s)
        _server.OnJson("POST", "/boxes/sb-1/stop", 502, new { detail = "bad gateway" });
        var error = await Assert.ThrowsAsync<SandboxException>(() => _client.StopSandboxAsync("sb-1"));
        Assert.Equal(502, error.StatusCode);
        Assert.Equal(4, _server.Requests.Count);
        Assert.Equal([1.25, 2.25, 4.25], _sleeps.Select(s => s.TotalSeconds));
    }

    [Theory]
    [InlineData("2", 2.25)]
    [InlineData(null, 1.25)]
    [InlineData("not-a-number", 1.25)]
    [InlineData("-3", 0.25)]
    public async Task Request_429_WaitsRetryAfterTimesBackoff(string? retryAfter, double firstSleep)
    {
        // Scenario 44
        _server.On("GET", "/boxes/sb-1", (c, _) => FakeSandboxServer.Respond(c, 429, new { detail = "slow down" },
            retryAfter is null ? null : new Dictionary<string, string> { ["Retry-After"] = retryAfter }));
        await Assert.ThrowsAsync<QuotaExceededException>(() => _client.GetSandboxAsync("sb-1"));
        Assert.Equal(4, _server.Requests.Count);
        Assert.Equal(firstSleep, _sleeps[0].TotalSeconds, 3);
        var ra = firstSleep - 0.25;
        Assert.Equal((ra * 2) + 0.25, _sleeps[1].TotalSeconds, 3);
        Assert.Equal((ra * 4) + 0.25, _sleeps[2].TotalSeconds, 3);
    }

    [Theory]
    [InlineData(200)]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(422)]
    [InlineData(500)]
    [InlineData(408)]
    public async Task Request_OtherStatuses_AreNeverRetried(int status)
    {
        // Scenario 45
        _server.OnJson("GET", "/boxes/sb-1", status, status == 200 ? _server.Box() : new { detail = "x" });
        try
        {
            await _client.GetSandboxAsync("sb-1");
        }
        catch (SandboxException)
        {
        }

        Assert.Single(_server.Requests);
        Assert.Empty(_sleeps);
    }

    [Fact]
    public async Task Request_ConnectFailures_RetriedThenWrappedWithCause()
    {
        // Scenario 46
        var handler = new FailingHandler();
        using var client = _server.CreateClient(o =>
        {
            o.HttpMessageHandler = handler;
            o.DelayOverride = (d, _) => { _sleeps.Add(d); return Task.CompletedTask; };
        });
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => client.GetSandboxAsync("sb-1"));
        Assert.Equal(4, handler.Calls);
        Assert.Contains("Failed to connect to server after 4 attempts", error.Message);
        Assert.IsType<HttpRequestException>(error.InnerException);
        Assert.Equal(3, _sleeps.Count);
    }

    [Fact]
    public async Task Request_WithMaxRetriesZero_MakesExactlyOneCall()
    {
        // Scenario 46
        var handler = new FailingHandler();
        using var client = _server.CreateClient(o => { o.HttpMessageHandler = handler; o.MaxRetries = 0; });
        await Assert.ThrowsAsync<SandboxConnectionException>(() => client.GetSandboxAsync("sb-1"));
        Assert.Equal(1, handler.Calls);
        _server.OnJson("GET", "/boxes/x", 503, new { detail = "x" });
        using var plain = _server.CreateClient(o => o.MaxRetries = 0);
        await Assert.ThrowsAsync<SandboxException>(() => plain.GetSandboxAsync("x"));
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Request_ConnectTimeout_IsRetriedLikeConnectError()
    {
        var handler = new FailingHandler { Timeout = true };
        using var client = _server.CreateClient(o => { o.HttpMessageHandler = handler; o.MaxRetries = 1; });
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => client.GetSandboxAsync("sb-1"));
        Assert.Equal(2, handler.Calls);
        Assert.Contains("after 2 attempts", error.Message);
    }

    [Fact]
    public async Task Request_SlowResponse_SurfacesTimeoutNotCancellation()
    {
        _server.On("GET", "/boxes/sb-1", async (c, _) => { await Task.Delay(2000); await FakeSandboxServer.Respond(c, 200, _server.Box()); });
        using var client = _server.CreateClient(o => o.Timeout = TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAsync<TimeoutException>(() => client.GetSandboxAsync("sb-1"));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _client.GetSandboxAsync("sb-1", cts.Token));
        Assert.Equal(cts.Token, cancelled.CancellationToken);
    }

    private sealed class FailingHandler : HttpMessageHandler
    {
        public int Calls { get; private set; }

        public bool Timeout { get; init; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            if (Timeout)
            {
                throw new TaskCanceledException("connect timeout", new TimeoutException());
            }

            throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
        }
    }
}
