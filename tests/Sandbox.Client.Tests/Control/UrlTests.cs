using Sandbox.Client.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Sandbox.Client.Tests.Control;

public sealed class UrlTests : IAsyncLifetime
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

    private object ServiceUrlReply(TimeSpan validFor, string token = "tok-1", string? expires = null) => new
    {
        browser_url = _server.Url + "/_svc/auth?token=" + token,
        service_url = _server.Url + "/svc/",
        token,
        expires_at = expires ?? (_time.GetUtcNow() + validFor).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task GetServiceUrlAsync_DefaultsAndCustomExpiry_AreSentAsGiven()
    {
        // Scenario 34
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, ServiceUrlReply(TimeSpan.FromMinutes(10)));
        var url = await _client.GetServiceUrlAsync("sb-1", 3000);
        await _client.GetServiceUrlAsync("sb-1", 3000, new ServiceUrlOptions { ExpiresIn = TimeSpan.FromSeconds(120), EmbedOrigins = ["https://app.example.com"] });
        var bodies = _server.RequestsTo("/boxes/sb-1/service-url").Select(r => r.BodyText).ToList();
        Assert.Equal("""{"port":3000,"expires_in_seconds":600}""", bodies[0]);
        Assert.Equal("""{"port":3000,"expires_in_seconds":120,"embed_origins":["https://app.example.com"]}""", bodies[1]);
        Assert.Equal("tok-1", await url.GetTokenAsync());
        Assert.EndsWith("/svc/", await url.GetServiceUrlAsync());
        Assert.Contains("/_svc/auth?token=tok-1", await url.GetBrowserUrlAsync());
    }

    [Theory]
    [InlineData(0, 600)]
    [InlineData(-1, 600)]
    [InlineData(70000, 600)]
    [InlineData(3000, 0)]
    [InlineData(3000, 86401)]
    public async Task GetServiceUrlAsync_InvalidPortOrExpiry_FailsBeforeRequest(int port, int expires)
    {
        // Scenario 34, delta 15
        await Assert.ThrowsAsync<SandboxValidationException>(() => _client.GetServiceUrlAsync("sb-1", port, new ServiceUrlOptions { ExpiresIn = TimeSpan.FromSeconds(expires) }));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task GetServiceUrlAsync_404_IsSandboxNotFound()
    {
        _server.OnJson("POST", "/boxes/gone/service-url", 404, new { detail = "x" });
        Assert.Equal("sandbox", (await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.GetServiceUrlAsync("gone", 80))).ResourceType);
    }

    [Theory]
    [InlineData(29, 2)]
    [InlineData(30, 2)]
    [InlineData(-5, 2)]
    [InlineData(35, 1)]
    public async Task ServiceUrl_Accessor_RefreshesOnlyWithin30Seconds(int secondsLeft, int expectedPosts)
    {
        // Scenario 35
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, ServiceUrlReply(TimeSpan.FromSeconds(secondsLeft)), times: 1);
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, ServiceUrlReply(TimeSpan.FromMinutes(10), "tok-2"));
        var url = await _client.GetServiceUrlAsync("sb-1", 3000);
        var token = await url.GetTokenAsync();
        Assert.Equal(expectedPosts, _server.RequestsTo("/boxes/sb-1/service-url").Count);
        Assert.Equal(expectedPosts == 2 ? "tok-2" : "tok-1", token);
        if (expectedPosts == 2)
        {
            Assert.Equal(_server.RequestsTo("/boxes/sb-1/service-url")[0].BodyText, _server.RequestsTo("/boxes/sb-1/service-url")[1].BodyText);
        }
    }

    [Fact]
    public async Task ServiceUrl_ZonelessExpiry_IsTreatedAsUtc()
    {
        // Scenario 35 (zone-less and near)
        var near = (_time.GetUtcNow() + TimeSpan.FromSeconds(10)).ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, ServiceUrlReply(TimeSpan.Zero, expires: near), times: 1);
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, ServiceUrlReply(TimeSpan.FromMinutes(10), "tok-2"));
        var url = await _client.GetServiceUrlAsync("sb-1", 3000);
        Assert.Equal("tok-2", await url.GetTokenAsync());
    }

    [Fact]
    public async Task ServiceUrl_SendAsync_AddsTokenHeaderAndNoApiKey()
    {
        // Scenario 36 and delta 18
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, ServiceUrlReply(TimeSpan.FromMinutes(10)));
        _server.OnJson("GET", "/svc/api/x", 200, new { ok = true });
        using var client = _server.CreateClient(o => { o.TimeProvider = _time; o.DefaultHeaders["X-Service-Key"] = "svc"; });
        var url = await client.GetServiceUrlAsync("sb-1", 3000);
        using var response = await url.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri("//api/x?y=1", UriKind.Relative)));
        Assert.Equal(200, (int)response.StatusCode);
        var request = Assert.Single(_server.RequestsTo("/svc/api/x"));
        Assert.Equal("?y=1", request.QueryString);
        Assert.Equal("tok-1", request.Header(ServiceUrl.TokenHeader));
        Assert.Null(request.Header("X-Api-Key"));
        Assert.Null(request.Header("X-Service-Key"));
        Assert.Equal("http://abc--3000.svc.example.com/api/data", ServiceUrl.Join("http://abc--3000.svc.example.com/", "/api/data"));
    }

    [Fact]
    public async Task CreateDownloadUrlAsync_SendsOnlyGivenKeysAndPreservesNullExpiry()
    {
        // Scenario 37
        _server.OnJson("POST", "/boxes/sb-1/download-url", 200, new Dictionary<string, object?> { ["download_url"] = "https://x--dl/tok", ["token"] = "tok", ["expires_at"] = null });
        var link = await _client.CreateDownloadUrlAsync("sb-1", "/app/a.txt");
        Assert.Null(link.ExpiresAt);
        Assert.Equal("tok", link.Token);
        await _client.CreateDownloadUrlAsync("sb-1", "/app/a.txt", new DownloadUrlOptions { ExpiresIn = TimeSpan.FromMinutes(5), ContentType = "text/plain", ContentDisposition = "inline" });
        var bodies = _server.RequestsTo("/boxes/sb-1/download-url").Select(r => r.BodyText).ToList();
        Assert.Equal("""{"path":"/app/a.txt"}""", bodies[0]);
        Assert.Equal("""{"path":"/app/a.txt","expires_in_seconds":300,"content_type":"text/plain","content_disposition":"inline"}""", bodies[1]);
        await Assert.ThrowsAsync<SandboxValidationException>(() => _client.CreateDownloadUrlAsync("sb-1", "/a", new DownloadUrlOptions { ExpiresIn = TimeSpan.Zero }));
        Assert.Equal(2, _server.Requests.Count);
        _server.OnJson("POST", "/boxes/gone/download-url", 404, new { detail = "x" });
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.CreateDownloadUrlAsync("gone", "/a"));
    }

    [Fact]
    public async Task GetServiceLoginUrlAsync_SendsAccessWithoutExpiryAndReturnsBrowserUrl()
    {
        // Delta scenarios 14, 15
        _server.OnJson("POST", "/boxes/sb-1/service-url", 200, new { browser_url = "https://login", access = "workspace", embed_origins = new[] { "https://app.example.com" } });
        var login = await _client.GetServiceLoginUrlAsync("sb-1", 8080, "workspace", ["https://app.example.com"]);
        Assert.Equal("https://login", login.Url);
        Assert.Equal("workspace", login.Access);
        Assert.Equal(["https://app.example.com"], login.EmbedOrigins);
        Assert.Equal("""{"port":8080,"access":"workspace","embed_origins":["https://app.example.com"]}""", Assert.Single(_server.Requests).BodyText);
        await Assert.ThrowsAsync<SandboxValidationException>(() => _client.GetServiceLoginUrlAsync("sb-1", 8080, "off"));
        await Assert.ThrowsAsync<SandboxValidationException>(() => _client.GetServiceLoginUrlAsync("sb-1", 70000, "restricted"));
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task GetServiceUrlAsync_WhileLoginGrantExists_Raises409AsGenericError()
    {
        // Delta scenario 16
        _server.OnJson("POST", "/boxes/sb-1/service-url", 409, FakeSandboxServer.Detail("Conflict", "login grant exists"));
        var error = await Assert.ThrowsAsync<SandboxException>(() => _client.GetServiceUrlAsync("sb-1", 8080));
        Assert.Equal(409, error.StatusCode);
        Assert.Equal(typeof(SandboxException), error.GetType());
    }
}
