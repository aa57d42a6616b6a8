using System.Globalization;
using Sandbox.Client.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Sandbox.Client.Tests.Conveniences;

/// <summary>The guide's conveniences: ServiceUrl HTTP helpers, CommandResult.Success, the typed 409 errors and access "off".</summary>
public sealed class SdkConvenienceTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 24, 12, 0, 0, TimeSpan.Zero));
    private FakeSandboxServer _server = null!;
    private SandboxClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeSandboxServer.StartAsync();
        _client = _server.CreateClient(o => o.TimeProvider = _time);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private object Reply(string token, TimeSpan validFor) => new
    {
        browser_url = _server.Url + "/_svc/auth?token=" + token,
        service_url = _server.Url + "/svc/",
        token,
        expires_at = (_time.GetUtcNow() + validFor).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task ServiceUrl_VerbHelpers_SendJsonBodiesWithTokenAndNoApiKey()
    {
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, Reply("tok-1", TimeSpan.FromMinutes(10)));
        foreach (var method in new[] { "GET", "POST", "PUT", "PATCH", "DELETE" })
        {
            _server.OnJson(method, "/svc/items/7", 200, new { method });
        }

        var svc = await _client.GetServiceUrlAsync("sb-1", 3000);
        using (var get = await svc.GetAsync("/items/7?full=1"))
        {
            Assert.Equal(200, (int)get.StatusCode);
            Assert.Contains("GET", await get.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        (await svc.PostAsync("items/7", new { name = "a", count = 2 })).Dispose();
        (await svc.PutAsync("/items/7", new Dictionary<string, int> { ["count"] = 3 })).Dispose();
        (await svc.PatchAsync("/items/7", new { done = true })).Dispose();
        (await svc.DeleteAsync("/items/7")).Dispose();

        var requests = _server.RequestsTo("/svc/items/7");
        Assert.Equal(["GET", "POST", "PUT", "PATCH", "DELETE"], requests.Select(r => r.Method));
        Assert.Equal("?full=1", requests[0].QueryString);
        Assert.Equal("""{"name":"a","count":2}""", requests[1].BodyText);
        Assert.StartsWith("application/json", requests[1].Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal("""{"count":3}""", requests[2].BodyText);
        Assert.Equal("""{"done":true}""", requests[3].BodyText);
        Assert.Empty(requests[4].Body);
        Assert.All(requests, r => Assert.Equal("tok-1", r.Header(ServiceUrl.TokenHeader)));
        Assert.All(requests, r => Assert.Null(r.Header("X-Api-Key")));
    }

    [Fact]
    public async Task ServiceUrl_VerbHelpers_RefreshAnExpiringTokenBeforeSending()
    {
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, Reply("tok-1", TimeSpan.FromMinutes(10)), times: 1);
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, Reply("tok-2", TimeSpan.FromMinutes(10)));
        _server.OnJson("GET", "/svc/", 200, new { ok = true });
        var svc = await _client.GetServiceUrlAsync("sb-1", 3000);
        _time.Advance(TimeSpan.FromMinutes(9.6));
        (await svc.GetAsync()).Dispose();
        Assert.Equal("tok-2", Assert.Single(_server.RequestsTo("/svc/")).Header(ServiceUrl.TokenHeader));
        Assert.Equal(2, _server.RequestsTo("/boxes/sb-1/service-url").Count);
    }

    [Fact]
    public async Task ServiceUrl_VerbHelpers_On401_MintANewTokenAndSendOnceMore()
    {
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, Reply("tok-1", TimeSpan.FromMinutes(10)), times: 1);
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, Reply("tok-2", TimeSpan.FromMinutes(10)));
        _server.OnJson("POST", "/svc/jobs", 401, new { detail = "token revoked" }, times: 1);
        _server.OnJson("POST", "/svc/jobs", 201, new { id = 1 });
        var svc = await _client.GetServiceUrlAsync("sb-1", 3000);
        using var response = await svc.PostAsync("/jobs", new { n = 1 });
        Assert.Equal(201, (int)response.StatusCode);
        var sent = _server.RequestsTo("/svc/jobs");
        Assert.Equal(["tok-1", "tok-2"], sent.Select(r => r.Header(ServiceUrl.TokenHeader)));
        Assert.All(sent, r => Assert.Equal("""{"n":1}""", r.BodyText));

        // A second 401 is the caller's to see: no loop.
        _server.OnJson("GET", "/svc/still-401", 401, null);
        using var denied = await svc.GetAsync("/still-401");
        Assert.Equal(401, (int)denied.StatusCode);
        Assert.Equal(2, _server.RequestsTo("/svc/still-401").Count);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(-1, false)]
    public void CommandResult_Success_IsExitCodeZero(int exitCode, bool success) =>
        Assert.Equal(success, new CommandResult("", "", exitCode).Success);

    [Fact]
    public async Task CreateSandboxAsync_409_IsResourceAlreadyExists()
    {
        _server.OnJson("POST", "/boxes", 409, FakeSandboxServer.Detail("Conflict", "Sandbox name 'a' already in use"));
        var error = await Assert.ThrowsAsync<ResourceAlreadyExistsException>(() => _client.CreateSandboxAsync(new CreateSandboxOptions { Name = "a" }));
        Assert.Equal("sandbox", error.ResourceType);
        Assert.Equal(409, error.StatusCode);
        Assert.Contains("already in use", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SnapshotCreateAndCapture_409_AreResourceAlreadyExists_AndDelete409IsResourceInUse()
    {
        _server.OnJson("POST", "/snapshots", 409, FakeSandboxServer.Detail("Conflict", "Snapshot name 's' already in use"));
        _server.OnJson("POST", "/boxes/sb-1/snapshot", 409, FakeSandboxServer.Detail("Conflict", "Snapshot name 's' already in use"));
        _server.OnJson("POST", "/boxes/gone/snapshot", 404, new { detail = "nope" });
        _server.OnJson("DELETE", "/snapshots/snap-1", 409, FakeSandboxServer.Detail("Conflict", "Snapshot 'snap-1' is in use by existing sandboxes"));
        _server.OnJson("DELETE", "/snapshots/snap-2", 404, new { detail = "nope" });

        Assert.Equal("snapshot", (await Assert.ThrowsAsync<ResourceAlreadyExistsException>(() => _client.CreateSnapshotAsync("s", "img", 1 << 30))).ResourceType);
        Assert.Equal("snapshot", (await Assert.ThrowsAsync<ResourceAlreadyExistsException>(() => _client.CaptureSnapshotAsync("sb-1", "s"))).ResourceType);
        Assert.Equal("sandbox", (await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.CaptureSnapshotAsync("gone", "s"))).ResourceType);
        var inUse = await Assert.ThrowsAsync<ResourceInUseException>(() => _client.DeleteSnapshotAsync("snap-1"));
        Assert.Equal("snapshot", inUse.ResourceType);
        Assert.Contains("in use", inUse.Message, StringComparison.Ordinal);
        Assert.Equal("snapshot", (await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DeleteSnapshotAsync("snap-2"))).ResourceType);
    }

    [Fact]
    public async Task RemoveServiceLoginAsync_SendsAccessOff_ThenRefreshesInTokenMode()
    {
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, Reply("tok-1", TimeSpan.FromSeconds(20)), times: 1);
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, Reply("tok-2", TimeSpan.FromMinutes(10)));
        var svc = await _client.RemoveServiceLoginAsync("sb-1", 8080, new ServiceUrlOptions { ExpiresIn = TimeSpan.FromSeconds(120) });
        Assert.Equal("tok-2", await svc.GetTokenAsync());   // 20 s left: refreshed
        var bodies = _server.RequestsTo("/boxes/sb-1/service-url").Select(r => r.BodyText).ToList();
        Assert.Equal("""{"port":8080,"expires_in_seconds":120,"access":"off"}""", bodies[0]);
        Assert.Equal("""{"port":8080,"expires_in_seconds":120}""", bodies[1]);
        await Assert.ThrowsAsync<SandboxValidationException>(() => _client.RemoveServiceLoginAsync("sb-1", 0));
        Assert.Equal(2, _server.Requests.Count);
    }
}
