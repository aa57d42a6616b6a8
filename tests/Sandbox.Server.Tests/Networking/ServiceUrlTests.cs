using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Networking;

public sealed class ServiceUrlTests : IAsyncLifetime
{
    private NetworkingTestServer _server = null!;
    private BoxWithBackend _box = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await NetworkingTestServer.StartAsync();
        _box = await BoxWithBackend.StartAsync(_server);
    }

    public async ValueTask DisposeAsync()
    {
        _box.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Mint_ReturnsTokenServiceBrowserAndEmbedUrls()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port });

        Assert.Equal($"http://127.0.0.1:{_server.Port}/svc/{_box.Id}--{_box.Port}/", info.ServiceUrl);
        Assert.Equal($"http://{_box.Id}--{_box.Port}.localhost:{_server.Port}/_svc/auth?token={info.Token}", info.BrowserUrl);
        Assert.Equal($"http://{_box.Id}--{_box.Port}.localhost:{_server.Port}/_svc/embed#token={info.Token}", info.EmbedUrl);
        var expires = DateTimeOffset.Parse(info.ExpiresAt!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange((expires - _server.Time.GetUtcNow()).TotalSeconds, 598, 601);
        Assert.EndsWith("Z", info.ExpiresAt, StringComparison.Ordinal);
        Assert.Equal(3, info.Token!.Split('.').Length);
    }

    [Theory]
    [InlineData("""{"port":0}""", "port")]
    [InlineData("""{"port":70000}""", "port")]
    [InlineData("""{"port":80,"expires_in_seconds":0}""", "expires_in_seconds")]
    [InlineData("""{"port":80,"expires_in_seconds":86401}""", "expires_in_seconds")]
    [InlineData("""{"port":80,"access":"public"}""", "access")]
    [InlineData("""{"port":80,"access":"workspace","expires_in_seconds":60}""", "expires_in_seconds")]
    [InlineData("""{"port":80,"embed_origins":["http://evil.example.com"]}""", "embed_origins")]
    [InlineData("""{"port":80,"embed_origins":["https://a.example.com/path"]}""", "embed_origins")]
    [InlineData("""{"port":80,"embed_origins":["https://a.com","https://b.com","https://c.com","https://d.com","https://e.com","https://f.com"]}""", "embed_origins")]
    public async Task Mint_InvalidRequest_Returns422NamingTheField(string body, string field)
    {
        using var response = await _server.Client.PostAsync("/v2/sandboxes/boxes/web/service-url", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail")[0];
        Assert.Equal(field, detail.GetProperty("loc")[1].GetString());
    }

    [Fact]
    public async Task Mint_UnknownBox_Returns404()
    {
        using var response = await _server.Client.PostAsJsonAsync("/v2/sandboxes/boxes/nope/service-url", new { port = 80 });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Mint_EmbedOrigins_AreNormalisedAndEchoed()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port, embed_origins = new[] { "HTTPS://App.Example.com:443", "http://localhost:5173/" } });
        Assert.Equal(["https://app.example.com", "http://localhost:5173"], info.EmbedOrigins);

        using var http = new HttpClient(_server.LoopbackHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, info.ServiceUrl + "index.html");
        request.Headers.Add("X-Langsmith-Sandbox-Service-Token", info.Token);
        using var response = await http.SendAsync(request);
        Assert.Contains("frame-ancestors 'self' https://app.example.com http://localhost:5173", response.Headers.GetValues("Content-Security-Policy"));
    }

    [Fact]
    public async Task TokenHeader_ProxiesToThePortInsideTheBox_AndStripsTheToken()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port });
        using var http = new HttpClient(_server.LoopbackHandler());
        var marks = _server.Boxes.ActiveMarks;

        using var page = new HttpRequestMessage(HttpMethod.Get, info.ServiceUrl + "docs/page2.html");
        page.Headers.Add("X-Langsmith-Sandbox-Service-Token", info.Token);
        using var pageResponse = await http.SendAsync(page);
        Assert.Equal(HttpStatusCode.OK, pageResponse.StatusCode);
        Assert.Contains("Second page reached", await pageResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(_server.Boxes.ActiveMarks > marks, "service traffic must count as box activity (idle_ttl)");

        using var echo = new HttpRequestMessage(HttpMethod.Get, info.ServiceUrl + "headers?x=1");
        echo.Headers.Add("X-Langsmith-Sandbox-Service-Token", info.Token);
        echo.Headers.Add("X-Langsmith-User-Id", "spoofed");
        echo.Headers.Add("Cookie", "app=1; langsmith_sandbox_svc=secret");
        using var echoResponse = await http.SendAsync(echo);
        var headers = await echoResponse.Content.ReadFromJsonAsync<Dictionary<string, string>>();
        Assert.NotNull(headers);
        Assert.DoesNotContain("x-langsmith-sandbox-service-token", headers.Keys);
        Assert.DoesNotContain("x-langsmith-user-id", headers.Keys);
        Assert.Equal("app=1", headers["cookie"]);
        Assert.Equal("http", headers["x-forwarded-proto"]);
        Assert.Equal($"/svc/{_box.Id}--{_box.Port}", headers["x-forwarded-prefix"]);
        Assert.Equal("127.0.0.1", headers["x-forwarded-for"]);
    }

    [Fact]
    public async Task RequestBody_IsStreamedToTheService()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port });
        using var http = new HttpClient(_server.LoopbackHandler());
        var payload = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, info.ServiceUrl + "upload") { Content = new ByteArrayContent(payload) };
        request.Headers.Add("X-Langsmith-Sandbox-Service-Token", info.Token);
        using var response = await http.SendAsync(request);
        Assert.Equal(payload, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task NoToken_Returns401_JsonForApisAndHtmlForBrowsers()
    {
        using var http = new HttpClient(_server.LoopbackHandler());
        var url = $"http://127.0.0.1:{_server.Port}/svc/{_box.Id}--{_box.Port}/";
        using var json = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.Unauthorized, json.StatusCode);
        Assert.Equal("Unauthorized", JsonDocument.Parse(await json.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetProperty("error").GetString());

        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/html");
        using var html = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, html.StatusCode);
        Assert.Contains("Authentication required", await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredToken_SaysLinkExpired_AndOtherPortsTokenIsRefused()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port, expires_in_seconds = 60 });
        var other = await _server.MintServiceUrlAsync("web", new { port = _box.Port + 1 });
        using var http = new HttpClient(_server.LoopbackHandler());

        using var wrong = new HttpRequestMessage(HttpMethod.Get, info.ServiceUrl);
        wrong.Headers.Add("X-Langsmith-Sandbox-Service-Token", other.Token);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(wrong)).StatusCode);

        _server.Time.Advance(TimeSpan.FromSeconds(61));
        using var expired = new HttpRequestMessage(HttpMethod.Get, info.ServiceUrl);
        expired.Headers.Add("X-Langsmith-Sandbox-Service-Token", info.Token);
        expired.Headers.Accept.ParseAdd("text/html");
        using var response = await http.SendAsync(expired);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Link expired", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var tampered = new HttpRequestMessage(HttpMethod.Get, other.ServiceUrl);
        tampered.Headers.Add("X-Langsmith-Sandbox-Service-Token", other.Token![..^2] + "xx");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(tampered)).StatusCode);
    }

    [Fact]
    public async Task BrowserUrl_SetsHttpOnlyCookieScopedToTheServiceHost_ThenServesWithTheCookie()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port });
        using var http = new HttpClient(_server.LoopbackHandler());

        using var auth = await http.GetAsync(info.BrowserUrl);
        Assert.Equal(HttpStatusCode.Redirect, auth.StatusCode);
        Assert.Equal("/", auth.Headers.Location!.OriginalString);
        var cookie = Assert.Single(auth.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("langsmith_sandbox_svc=" + info.Token, cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/;", cookie + ";", StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("domain=", cookie, StringComparison.OrdinalIgnoreCase);

        using var page = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(info.BrowserUrl!), "/docs/page2.html"));
        page.Headers.Add("Cookie", cookie.Split(';')[0]);
        using var response = await http.SendAsync(page);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Second page reached", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NothingListening_Returns502SayingSo()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port + 1 });
        using var http = new HttpClient(_server.LoopbackHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, info.ServiceUrl);
        request.Headers.Add("X-Langsmith-Sandbox-Service-Token", info.Token);
        request.Headers.Accept.ParseAdd("text/html");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("Service not reachable", text, StringComparison.Ordinal);
        Assert.Contains($"Nothing is listening on port {_box.Port + 1}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PathForm_RewritesRedirectLocations()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port });
        using var http = new HttpClient(_server.LoopbackHandler());
        using var request = new HttpRequestMessage(HttpMethod.Get, info.ServiceUrl + "go");
        request.Headers.Add("X-Langsmith-Sandbox-Service-Token", info.Token);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal($"/svc/{_box.Id}--{_box.Port}/index.html", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task WebSocket_IsRelayedToTheServiceInsideTheBox()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port });
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Langsmith-Sandbox-Service-Token", info.Token);
        var wsUrl = new Uri(info.ServiceUrl!.Replace("http://", "ws://", StringComparison.Ordinal) + "ws");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(wsUrl, cts.Token);
        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, cts.Token);
        var buffer = new byte[100];
        var result = await socket.ReceiveAsync(buffer, cts.Token);
        Assert.Equal("echo:hello", Encoding.UTF8.GetString(buffer, 0, result.Count));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
    }

    [Fact]
    public async Task LoginGrant_RefusesTokenMode_AdmitsApiKeyHolder_UntilTurnedOff()
    {
        var grant = await _server.MintServiceUrlAsync("web", new { port = _box.Port, access = "workspace" });
        Assert.Equal("workspace", grant.Access);
        Assert.Null(grant.Token);
        Assert.Null(grant.ExpiresAt);
        Assert.EndsWith("/_svc/login", grant.BrowserUrl, StringComparison.Ordinal);

        using (var conflict = await _server.Client.PostAsJsonAsync("/v2/sandboxes/boxes/web/service-url", new { port = _box.Port }))
        {
            Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        }

        using var http = new HttpClient(_server.LoopbackHandler());
        using (var browser = new HttpRequestMessage(HttpMethod.Get, grant.ServiceUrl + "docs/page2.html"))
        {
            browser.Headers.Accept.ParseAdd("text/html");
            using var redirect = await http.SendAsync(browser);
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            Assert.Contains("/_svc/login?redirect=", redirect.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }

        using (var wrongKey = await http.PostAsync(grant.BrowserUrl, new FormUrlEncodedContent(new Dictionary<string, string> { ["api_key"] = "nope", ["redirect"] = "/" })))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        }

        using var login = await http.PostAsync(grant.BrowserUrl, new FormUrlEncodedContent(new Dictionary<string, string> { ["api_key"] = NetworkingTestServer.ApiKey, ["redirect"] = "/docs/page2.html" }));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var cookie = login.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        using (var page = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(grant.BrowserUrl!), "/docs/page2.html")))
        {
            page.Headers.Add("Cookie", cookie);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(page)).StatusCode);
        }

        var token = await _server.MintServiceUrlAsync("web", new { port = _box.Port, access = "off" });
        Assert.NotNull(token.Token);
        using var afterOff = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(grant.BrowserUrl!), "/docs/page2.html"));
        afterOff.Headers.Add("Cookie", cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(afterOff)).StatusCode);
    }
}
