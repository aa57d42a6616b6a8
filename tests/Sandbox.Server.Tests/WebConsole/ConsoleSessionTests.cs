using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace Sandbox.Server.Tests.WebConsole;

/// <summary>The console's session and CSRF rules at the HTTP level (what a hostile page or client could send).</summary>
public sealed class ConsoleSessionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task SignIn_WithAWrongKey_IsRefusedAndSetsNoCookie()
    {
        using var http = NewClient();
        string anonymous = await CsrfAsync(http, null);
        using var response = await PostJsonAsync(http, "/ui/session", new { api_key = "lsv2_wrong" }, anonymous, null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));

        using var noToken = await PostJsonAsync(http, "/ui/session", new { api_key = fixture.Server.ApiKey }, null, null);
        Assert.Equal(HttpStatusCode.Forbidden, noToken.StatusCode);
    }

    [Fact]
    public async Task SessionCookie_IsScopedToTheConsoleAndApi_AndStateChangesNeedTheSessionsToken()
    {
        using var http = NewClient();
        var (cookie, csrf, setCookies) = await SignInAsync(http);
        Assert.All(setCookies.Where(c => c.StartsWith("sandbox_console=", StringComparison.Ordinal)), c =>
        {
            Assert.Contains("httponly", c, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", c, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("path=/;", c + ";", StringComparison.OrdinalIgnoreCase);
        });
        Assert.Contains(setCookies, c => c.Contains("path=/dp", StringComparison.OrdinalIgnoreCase));

        // No session: plain 401 as for a missing key.
        using (var none = await PostJsonAsync(http, "/v2/sandboxes/boxes", new { name = "x" }, csrf, null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }

        // Session without / with a forged / with the anonymous token: refused.
        foreach (string? token in new[] { null, "forged", await CsrfAsync(http, null) })
        {
            using var refused = await PostJsonAsync(http, "/v2/sandboxes/boxes", new { name = "csrf-refused" }, token, cookie);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        // A request the browser marks as cross-site is refused even for reads.
        using (var crossSite = new HttpRequestMessage(HttpMethod.Get, "/v2/sandboxes/boxes"))
        {
            crossSite.Headers.Add("Cookie", cookie);
            crossSite.Headers.Add("Sec-Fetch-Site", "same-site");
            using var response = await http.SendAsync(crossSite);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        // With the session's token the same call is the public API call.
        using (var created = await PostJsonAsync(http, "/v2/sandboxes/boxes", new { name = "csrf-accepted-" + Guid.NewGuid().ToString("N")[..6], wait_for_ready = true }, csrf, cookie))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var info = await created.Content.ReadFromJsonAsync<JsonElement>();
            string id = info.GetProperty("id").GetString()!;
            Assert.DoesNotContain(await fixture.Client.ListSandboxesAsync(), b => b.Name == "csrf-refused");

            // WebSocket execute: needs the same origin and the token in the query.
            string ws = fixture.Server.LangSmithEndpoint.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + $"dp/{id}/execute/ws";
            string origin = fixture.Server.LangSmithEndpoint.ToString().TrimEnd('/');
            Assert.Equal(403, await UpgradeStatusAsync(ws + "?csrf_token=" + Uri.EscapeDataString(csrf), cookie, "http://evil.example"));
            Assert.Equal(403, await UpgradeStatusAsync(ws, cookie, origin));
            Assert.Equal(101, await UpgradeStatusAsync(ws + "?csrf_token=" + Uri.EscapeDataString(csrf), cookie, origin));

            // Read-only extensions under the same auth.
            using var stats = new HttpRequestMessage(HttpMethod.Get, $"/dp/{id}/stats");
            stats.Headers.Add("Cookie", cookie);
            using var statsResponse = await http.SendAsync(stats);
            var body = await statsResponse.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(body.GetProperty("running").GetBoolean());
            Assert.True(body.GetProperty("memory_bytes").GetInt64() > 0);
            Assert.True(body.GetProperty("pids").GetInt64() >= 1);
            await fixture.DeleteBoxAsync(id);
        }

        // Sign out needs the token too, then the cookie is dead.
        using (var signOutForged = await SendAsync(http, HttpMethod.Delete, "/ui/session", "forged", cookie))
        {
            Assert.Equal(HttpStatusCode.Forbidden, signOutForged.StatusCode);
        }

        using (var signOut = await SendAsync(http, HttpMethod.Delete, "/ui/session", csrf, cookie))
        {
            Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
        }

        using var after = await SendAsync(http, HttpMethod.Get, "/v2/sandboxes/boxes", csrf, cookie);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task PathFormServicePages_AreSandboxed_InABrowserThatHoldsAConsoleSession()
    {
        using var http = NewClient();
        var (_, _, setCookies) = await SignInAsync(http);
        string marker = setCookies.First(c => c.StartsWith("sandbox_console_present=", StringComparison.Ordinal));
        Assert.Contains("path=/svc", marker, StringComparison.OrdinalIgnoreCase);

        using var withMarker = new HttpRequestMessage(HttpMethod.Get, "/svc/nobox--8000/");
        withMarker.Headers.Add("Cookie", marker.Split(';')[0]);
        using var sandboxed = await http.SendAsync(withMarker);
        Assert.Contains(sandboxed.Headers.GetValues("Content-Security-Policy"), v => v.StartsWith("sandbox ", StringComparison.Ordinal));

        using var plain = await http.GetAsync("/svc/nobox--8000/");
        Assert.False(plain.Headers.TryGetValues("Content-Security-Policy", out var values) && values.Any(v => v.StartsWith("sandbox", StringComparison.Ordinal)));
    }

    private HttpClient NewClient() =>
        new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = fixture.Server.LangSmithEndpoint };

    private async Task<(string Cookie, string Csrf, List<string> SetCookies)> SignInAsync(HttpClient http)
    {
        using var response = await PostJsonAsync(http, "/ui/session", new { api_key = fixture.Server.ApiKey }, await CsrfAsync(http, null), null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var setCookies = response.Headers.GetValues("Set-Cookie").ToList();
        string value = setCookies.First(c => c.StartsWith("sandbox_console=", StringComparison.Ordinal)).Split(';')[0];
        string csrf = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("csrf_token").GetString()!;
        Assert.Equal(csrf, await CsrfAsync(http, value));
        return (value, csrf, setCookies);
    }

    private static async Task<string> CsrfAsync(HttpClient http, string? cookie)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ui/session");
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        using var response = await http.SendAsync(request);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("csrf_token").GetString()!;
    }

    private static Task<HttpResponseMessage> PostJsonAsync(HttpClient http, string path, object body, string? csrf, string? cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        return SendCoreAsync(http, request, csrf, cookie);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? csrf, string? cookie) =>
        SendCoreAsync(http, new HttpRequestMessage(method, path), csrf, cookie);

    private static async Task<HttpResponseMessage> SendCoreAsync(HttpClient http, HttpRequestMessage request, string? csrf, string? cookie)
    {
        using (request)
        {
            if (csrf is not null)
            {
                request.Headers.Add("X-CSRF-TOKEN", csrf);
            }

            if (cookie is not null)
            {
                request.Headers.Add("Cookie", cookie);
            }

            return await http.SendAsync(request);
        }
    }

    private static async Task<int> UpgradeStatusAsync(string url, string cookie, string origin)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Cookie", cookie);
        socket.Options.SetRequestHeader("Origin", origin);
        socket.Options.CollectHttpResponseDetails = true;
        try
        {
            await socket.ConnectAsync(new Uri(url), CancellationToken.None);
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
            return 101;
        }
        catch (WebSocketException)
        {
            return (int)socket.HttpStatusCode;
        }
    }
}
