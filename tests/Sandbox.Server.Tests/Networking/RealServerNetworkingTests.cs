using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sandbox.Client;
using Sandbox.Protocol;
using Sandbox.Server.Networking;

namespace Sandbox.Server.Tests.Networking;

/// <summary>Service URLs, tunnels and egress through our client against the embedded server with real bubblewrap boxes.</summary>
public sealed class RealServerNetworkingTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Secret = "sk-real-box-secret-7f3a9c";
    private const string OpaqueSecret = "opaque-real-box-value-51d2";

    [Fact]
    public async Task ServiceUrl_ThroughClient_ReachesHttpServerInsideTheBox()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        await using var server = await StartHttpServerAsync(box, 8000);
        var url = await box.GetServiceUrlAsync(8000);
        Assert.Contains($"/svc/{box.Info.Id}--8000/", await url.GetServiceUrlAsync(), StringComparison.Ordinal);

        using var request = new HttpRequestMessage(HttpMethod.Get, "index.html");
        using var response = await SendWithRetryAsync(url, "index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Home page", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chromium_OpensMultiPageSiteServedInABox_ThroughItsBrowserUrl()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        await using var server = await StartHttpServerAsync(box, 8080);
        var url = await box.GetServiceUrlAsync(8080);
        using (var ready = await SendWithRetryAsync(url, "index.html"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        var browserUrl = await url.GetBrowserUrlAsync();
        Assert.StartsWith($"http://{box.Info.Id}--8080.localhost:", browserUrl, StringComparison.Ordinal);
        var dom = await BrowserServiceUrlTests.RunChromiumAsync("--dump-dom", browserUrl + "&redirect=" + Uri.EscapeDataString("/?follow=1"));
        Assert.Contains("Second page reached", dom, StringComparison.Ordinal);

        var screenshot = Path.Combine(Path.GetTempPath(), $"svc-box-{Guid.NewGuid():N}.png");
        try
        {
            await BrowserServiceUrlTests.RunChromiumAsync("--screenshot=" + screenshot, "--window-size=800,600", browserUrl + "&redirect=" + Uri.EscapeDataString("/docs/page2.html"));
            var (width, firstPixel, distinct) = BrowserServiceUrlTests.InspectPng(await File.ReadAllBytesAsync(screenshot));
            Assert.Equal(800, width);
            Assert.Equal((0x33, 0x66, 0xCC), firstPixel);
            Assert.True(distinct > 8, "the screenshot looks blank");
        }
        finally
        {
            File.Delete(screenshot);
        }
    }

    [Fact]
    public async Task ServiceUrl_NothingListening_Is502()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        var url = await box.GetServiceUrlAsync(8123);
        using var response = await url.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("Nothing is listening on port 8123", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tunnel_ThroughClient_CarriesHttpToThePortInsideTheBox()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        await using var server = await StartHttpServerAsync(box, 8001);
        var localPort = NetworkNamespaceSocketFactoryTests.FreeHostPort();
        await using var tunnel = await box.OpenTunnelAsync(8001, localPort);
        Assert.Equal(localPort, tunnel.LocalPort);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        string body = "";
        for (var attempt = 0; attempt < 50 && !body.Contains("Home page", StringComparison.Ordinal); attempt++)
        {
            try
            {
                body = await http.GetStringAsync($"http://127.0.0.1:{localPort}/index.html");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }

        Assert.Contains("Home page", body, StringComparison.Ordinal);

        await using var stream = await tunnel.OpenStreamAsync();
        await stream.WriteAsync("GET /docs/page2.html HTTP/1.0\r\n\r\n"u8.ToArray());
        var reply = await new StreamReader(stream).ReadToEndAsync();
        Assert.Contains("Second page reached", reply, StringComparison.Ordinal);

        var closed = await box.OpenTunnelAsync(8002, NetworkNamespaceSocketFactoryTests.FreeHostPort());
        await using (closed)
        {
            var error = await Assert.ThrowsAsync<TunnelException>(() => closed.OpenStreamAsync());
            Assert.Contains("nothing is listening", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task BoxWithoutProxyConfig_HasOnlyLoopback_AndNoProxyEnvironment()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        var result = await box.RunAsync("cat /proc/net/route | tail -n +2 | wc -l; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; env | grep -ci proxy || true");
        Assert.Equal(["0", "lo", "0"], result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Egress_InjectsSecretsForAllowedHosts_BlocksOthers_AndSecretsNeverEnterTheBox()
    {
        await using var upstream = await LoopbackUpstream.StartAsync("api.example.test", "other.example.test");
        var options = fixture.Server.Services.GetRequiredService<IOptions<NetworkingOptions>>().Value;
        options.EgressHostOverrides["api.example.test"] = $"127.0.0.1:{upstream.HttpsPort}";
        options.EgressHostOverrides["other.example.test"] = $"127.0.0.1:{upstream.HttpsPort}";
        if (!options.EgressTrustedCaFiles.Contains(upstream.CaFile))
        {
            options.EgressTrustedCaFiles.Add(upstream.CaFile);
        }

        var secrets = fixture.Server.Services.GetRequiredService<IOptions<SandboxServerOptions>>().Value.Secrets;
        secrets["REAL_BOX_TOKEN"] = Secret;
        try
        {
            var config = JsonSerializer.Deserialize<ProxyConfig>("""
                {"rules":[{"name":"api","type":"headers","enabled":true,"match_hosts":["api.example.test"],
                           "headers":[{"name":"Authorization","type":"workspace_secret","value":"Bearer {REAL_BOX_TOKEN}"},
                                      {"name":"X-Opaque","type":"opaque","value":"opaque-real-box-value-51d2"}],
                           "env_vars":{"API_TOKEN":"placeholder"}}],
                 "access_control":{"allow_list":["api.example.test"]}}
                """, SandboxJson.Options)!;
            await using var box = await fixture.Client.CreateSandboxAsync(new CreateSandboxOptions { ProxyConfig = config });

            var info = await fixture.Http.GetStringAsync($"/v2/sandboxes/boxes/{box.Name}");
            Assert.DoesNotContain(OpaqueSecret, info, StringComparison.Ordinal);
            Assert.Contains("\"is_set\":true", info, StringComparison.Ordinal);

            var curl = await box.RunAsync($"curl -sS --max-time 20 https://api.example.test:{upstream.HttpsPort}/v1/data");
            Assert.True(curl.ExitCode == 0, curl.Stderr);
            var echo = JsonDocument.Parse(curl.Stdout).RootElement.GetProperty("headers");
            Assert.Equal("Bearer " + Secret, echo.GetProperty("authorization").GetString());
            Assert.Equal(OpaqueSecret, echo.GetProperty("x-opaque").GetString());

            var python = await box.RunAsync($"python3 -c \"import urllib.request,json; print(json.load(urllib.request.urlopen('https://api.example.test:{upstream.HttpsPort}/py'))['headers']['authorization'])\"");
            Assert.True(python.ExitCode == 0, python.Stderr);
            Assert.Equal("Bearer " + Secret, python.Stdout.Trim());

            var blocked = await box.RunAsync($"curl -sS --max-time 20 https://other.example.test:{upstream.HttpsPort}/ 2>&1; curl -sS --max-time 20 http://other.example.test:{upstream.HttpPort}/");
            Assert.Contains("CONNECT tunnel failed, response 403", blocked.Stdout, StringComparison.Ordinal);
            Assert.Contains("host \"other.example.test\" is not in the allow_list", blocked.Stdout, StringComparison.Ordinal);

            // PATCH proxy_config: the running proxy picks the new allow list up within a few seconds.
            using (var patch = await fixture.Http.PatchAsJsonAsync($"/v2/sandboxes/boxes/{box.Name}", new { proxy_config = new { rules = Array.Empty<object>(), access_control = new { allow_list = new[] { "api.example.test", "other.example.test" } } } }))
            {
                Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());
            }

            CommandResult allowedNow = null!;
            for (var attempt = 0; attempt < 20; attempt++)
            {
                allowedNow = await box.RunAsync($"curl -sS --max-time 20 https://other.example.test:{upstream.HttpsPort}/now");
                if (allowedNow.ExitCode == 0)
                {
                    break;
                }

                await Task.Delay(500);
            }

            Assert.True(allowedNow.ExitCode == 0, allowedNow.Stderr);
            Assert.Equal("/now", JsonDocument.Parse(allowedNow.Stdout).RootElement.GetProperty("path").GetString());

            var env = await box.RunAsync("env");
            Assert.Contains("API_TOKEN=placeholder", env.Stdout, StringComparison.Ordinal);
            Assert.Contains("HTTPS_PROXY=http://127.0.0.1:3128", env.Stdout, StringComparison.Ordinal);

            Assert.Matches(Obfuscate(Secret), Secret);
            Assert.DoesNotMatch(Obfuscate(Secret), Obfuscate(Secret));

            // Patterns like "sk-real-box-secr[e]t-…" match the secret but not their own text, so this command's argv never counts.
            var leak = await box.RunAsync(
                $"for s in '{Obfuscate(Secret)}' '{Obfuscate(OpaqueSecret)}'; do " +
                "env | grep -c -- \"$s\"; " +
                "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c -- \"$s\"; " +
                "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -c -- \"$s\"; " +
                "grep -rlsI -- \"$s\" /etc /home /tmp /root /var/tmp /run 2>/dev/null | wc -l; done");
            Assert.Equal(Enumerable.Repeat("0", 8), leak.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            secrets.Remove("REAL_BOX_TOKEN");
        }
    }

    private static string Obfuscate(string secret) => secret[..^3] + "[" + secret[^3] + "]" + secret[^2..];

    private static async Task<HttpResponseMessage> SendWithRetryAsync(ServiceUrl url, string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            var response = await url.SendAsync(new HttpRequestMessage(HttpMethod.Get, path));
            if (response.StatusCode != HttpStatusCode.BadGateway || attempt == 50)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(100);
        }
    }

    /// <summary>Writes a two-page site into the box and serves it with <c>python3 -m http.server</c> on <paramref name="port"/>.</summary>
    internal static async Task<CommandHandle> StartHttpServerAsync(SandboxInstance box, int port)
    {
        await box.WriteFileAsync("/home/user/site/index.html", "<!doctype html><html><head><title>Home</title></head><body style=\"background:#2a6\"><h1>Home page</h1><a id=\"next\" href=\"/docs/page2.html\">Second page</a><script>if (location.search.includes('follow')) document.getElementById('next').click();</script></body></html>");
        await box.WriteFileAsync("/home/user/site/docs/page2.html", "<!doctype html><html><head><title>Two</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body><h1>Second page reached</h1><p id=\"marker\">served from inside the box</p></body></html>");
        await box.WriteFileAsync("/home/user/site/style.css", "body { background: #36c; color: #fff; font-size: 32px; }");
        return await box.StartCommandAsync($"cd /home/user/site && exec python3 -m http.server {port} --bind 127.0.0.1", new RunOptions { Timeout = TimeSpan.Zero });
    }
}
