using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Protocol;
using Sandbox.Server.Networking.Egress;

namespace Sandbox.Server.Tests.Networking;

/// <summary>
/// The egress proxy listening on the loopback of a scratch network namespace (as inside a box), reached with curl run
/// in that namespace; upstream "internet" hosts are loopback servers mapped through the dialer's override table.
/// </summary>
public sealed class EgressProxyTests : IAsyncLifetime
{
    private const string SecretValue = "ghp_egress_test_secret_value";
    private LoopbackUpstream _upstream = null!;
    private NetworkingTestServer _server = null!;
    private ScratchNetworkNamespace _ns = null!;

    public async ValueTask InitializeAsync()
    {
        _upstream = await LoopbackUpstream.StartAsync("example.test", "api.example.test", "blocked.test");
        Environment.SetEnvironmentVariable("SANDBOX_SECRET_EGRESS_TEST_TOKEN", SecretValue);
        _server = await NetworkingTestServer.StartAsync(o =>
        {
            o.EgressProxyPort = 3128;
            foreach (var host in new[] { "example.test", "api.example.test", "blocked.test" })
            {
                o.EgressHostOverrides[host] = "127.0.0.1:0";
            }

            o.EgressTrustedCaFiles.Add(_upstream.CaFile);
        });
        _ns = ScratchNetworkNamespace.Start("sleep 300");
        await NetworkNamespaceSocketFactoryTests.WaitForNamespaceAsync(_ns);
        _server.Boxes.Add("egressbox", "egress", _ns.NamespacePath, Directory.CreateTempSubdirectory("egress-").FullName);
    }

    public async ValueTask DisposeAsync()
    {
        Environment.SetEnvironmentVariable("SANDBOX_SECRET_EGRESS_TEST_TOKEN", null);
        await _server.Services.GetRequiredService<EgressListeners>().DisposeAsync();
        _ns.Dispose();
        await _server.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Fact]
    public async Task Https_AllowedHost_GetsInjectedHeaders_ThroughTheInterceptingProxy()
    {
        await StartProxyAsync("""
            {"rules":[{"name":"api","type":"headers","match_hosts":["*.example.test"],"match_paths":["/v1/"],
                       "headers":[{"name":"Authorization","type":"workspace_secret","value":"Bearer {EGRESS_TEST_TOKEN}"}]}],
             "access_control":{"allow_list":["*.example.test","example.test"]}}
            """);

        var echo = await CurlJsonAsync($"https://api.example.test:{_upstream.HttpsPort}/v1/items?q=1");
        Assert.Equal("https", echo.GetProperty("scheme").GetString());
        Assert.Equal("/v1/items?q=1", echo.GetProperty("path").GetString());
        Assert.Equal("Bearer " + SecretValue, echo.GetProperty("headers").GetProperty("authorization").GetString());

        var other = await CurlJsonAsync($"https://api.example.test:{_upstream.HttpsPort}/v2/items");
        Assert.False(other.GetProperty("headers").TryGetProperty("authorization", out _));
    }

    [Fact]
    public async Task Http_MapFormHeaders_AreInjected_AndClientCannotOverrideThem()
    {
        await StartProxyAsync("""
            {"rules":[{"name":"svc","type":"headers","enabled":true,"match_hosts":["example.test"],"headers":{"X-Api-Token":"{EGRESS_TEST_TOKEN}"}}]}
            """);

        var echo = await CurlJsonAsync($"http://example.test:{_upstream.HttpPort}/plain", "-H", "X-Api-Token: forged");
        Assert.Equal("http", echo.GetProperty("scheme").GetString());
        Assert.Equal(SecretValue, echo.GetProperty("headers").GetProperty("x-api-token").GetString());
    }

    [Fact]
    public async Task BlockedHost_Gets403NamingHostAndRule_ForHttpAndHttps()
    {
        await StartProxyAsync("""{"rules":[],"access_control":{"deny_list":["blocked.test"]}}""");

        var (status, body) = await CurlStatusAsync($"http://blocked.test:{_upstream.HttpPort}/");
        Assert.Equal("403", status);
        Assert.Contains("host \"blocked.test\" matches deny_list rule \"blocked.test\"", body, StringComparison.Ordinal);

        var (_, connect) = await CurlStatusAsync($"https://blocked.test:{_upstream.HttpsPort}/");
        Assert.Contains("CONNECT tunnel failed, response 403", connect, StringComparison.Ordinal);

        var allowed = await CurlJsonAsync($"https://example.test:{_upstream.HttpsPort}/ok");
        Assert.Equal("/ok", allowed.GetProperty("path").GetString());
    }

    [Fact]
    public async Task ServerLoopback_IsNeverReachable()
    {
        await StartProxyAsync("""{"rules":[]}""");
        var (status, body) = await CurlStatusAsync($"http://127.0.0.1:{_server.Port}/v2/sandboxes/boxes");
        Assert.Equal("403", status);
        Assert.Contains("loopback", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutProxy_TheNamespaceHasNoRouteOut()
    {
        var (exit, output) = await RunInNamespaceAsync("ip", "route", "show");
        Assert.Equal(0, exit);
        Assert.Equal("", output.Trim());
        var (curlExit, _) = await RunInNamespaceAsync("curl", "-sS", "--max-time", "3", $"http://127.0.0.1:{_upstream.HttpPort}/");
        Assert.NotEqual(0, curlExit);
    }

    private async Task StartProxyAsync(string proxyConfigJson)
    {
        var overrides = _server.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Sandbox.Server.Networking.NetworkingOptions>>().Value.EgressHostOverrides;
        overrides["example.test"] = $"127.0.0.1:{_upstream.HttpsPort}";
        overrides["api.example.test"] = $"127.0.0.1:{_upstream.HttpsPort}";
        overrides["blocked.test"] = $"127.0.0.1:{_upstream.HttpsPort}";
        var policy = EgressPolicy.Compile(JsonSerializer.Deserialize<ProxyConfig>(proxyConfigJson, SandboxJson.Options)!);
        await _server.Services.GetRequiredService<EgressListeners>().StartAsync("egressbox", _ns.NamespacePath, policy, CancellationToken.None);
    }

    private async Task<JsonElement> CurlJsonAsync(string url, params string[] extra)
    {
        var http = url.StartsWith("http://", StringComparison.Ordinal);
        if (http)
        {
            var overrides = _server.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Sandbox.Server.Networking.NetworkingOptions>>().Value.EgressHostOverrides;
            overrides[new Uri(url).Host] = $"127.0.0.1:{_upstream.HttpPort}";
        }

        var (exit, output) = await RunInNamespaceAsync(["curl", "-sS", "--fail-with-body", "--max-time", "10", "-x", "http://127.0.0.1:3128", "--cacert", CaBundle(), .. extra, url]);
        Assert.True(exit == 0, $"curl failed ({exit}): {output}");
        return JsonDocument.Parse(output).RootElement;
    }

    private async Task<(string Status, string Body)> CurlStatusAsync(string url)
    {
        var (_, output) = await RunInNamespaceAsync("curl", "-sS", "--max-time", "10", "-x", "http://127.0.0.1:3128", "--cacert", CaBundle(), "-w", "\n%{http_code}", url);
        var lines = output.TrimEnd().Split('\n');
        return (lines[^1].Trim(), output);
    }

    private string CaBundle() => _server.Services.GetRequiredService<EgressCertificateAuthority>().BundlePath;

    private async Task<(int Exit, string Output)> RunInNamespaceAsync(params string[] command)
    {
        var info = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("--net=" + _ns.NamespacePath);
        foreach (var part in command)
        {
            info.ArgumentList.Add(part);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return (process.ExitCode, await stdout + await stderr);
    }
}
