using Microsoft.Extensions.DependencyInjection;
using Sandbox.Client.Tests.Infrastructure;

namespace Sandbox.Client.Tests.Configuration;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("http://localhost:8080/", "http://localhost:8080")]
    [InlineData("http://localhost:8080", "http://localhost:8080")]
    [InlineData("https://h/v2/sandboxes", "https://h/v2/sandboxes")]
    public void BaseUrl_ExplicitEndpoint_IsUsedVerbatimMinusOneSlash(string endpoint, string expected)
    {
        // Scenario 1
        using var client = new SandboxClient(new SandboxClientOptions { Endpoint = new Uri(endpoint), ApiKey = "k" });
        Assert.Equal(expected, client.Runtime.BaseUrl.OriginalString);
    }

    [Theory]
    [InlineData(null, "https://api.smith.langchain.com/api/v2/sandboxes")]
    [InlineData("https://eu.api.smith.langchain.com/", "https://eu.api.smith.langchain.com/api/v2/sandboxes")]
    [InlineData("https://ls.example.com/api/v1", "https://ls.example.com/api/v2/sandboxes")]
    [InlineData("https://ls.example.com/api", "https://ls.example.com/api/v2/sandboxes")]
    public void BaseUrl_FromLangSmithEndpoint_FollowsDelta(string? endpoint, string expected)
    {
        // Scenario 2 as changed by delta §2.1 / delta scenario 1
        Assert.Equal(expected, SandboxEnvironment.ResolveBaseUrl(null, endpoint).OriginalString);
    }

    [Theory]
    [InlineData("https://api.smith.langchain.com/v2/sandboxes", "https://api.smith.langchain.com")]
    [InlineData("http://test-server:8080", "http://test-server:8080")]
    [InlineData("https://h/api/v2/sandboxes", "https://h")]
    public void RegistriesRoot_StripsSandboxSuffix(string baseUrl, string root)
    {
        // Scenario 7 and delta §2.1
        Assert.Equal(root, SandboxEnvironment.ResolveRoot(new Uri(baseUrl)));
    }

    [Fact]
    public void FromEnvironment_ReadsLangSmithThenLangChainVariables()
    {
        // Scenarios 2, 3 and spec §2.1 timeouts
        var env = new Dictionary<string, string?>
        {
            ["LANGSMITH_ENDPOINT"] = "  ",
            ["LANGCHAIN_ENDPOINT"] = "https://lc.example.com",
            ["LANGCHAIN_API_KEY"] = "lc-key",
            ["LANGSMITH_SANDBOX_WS_TIMEOUT_OPEN"] = "12.5",
            ["LANGCHAIN_SANDBOX_WS_TIMEOUT_CONNECT_BUDGET"] = "0",
            ["LANGSMITH_SANDBOX_WS_TIMEOUT_PING_INTERVAL"] = "garbage",
            ["LANGSMITH_SANDBOX_WS_TIMEOUT_PING"] = "-1",
            ["LANGSMITH_SANDBOX_WS_TIMEOUT_CLOSE"] = "3",
        };
        var options = SandboxClientOptions.FromEnvironmentCore(name => env.GetValueOrDefault(name));
        Assert.Equal("lc-key", options.ApiKey);
        Assert.Equal("https://lc.example.com", options.LangSmithEndpoint);
        Assert.Equal(TimeSpan.FromSeconds(12.5), options.WebSocketOpenTimeout);
        Assert.Equal(TimeSpan.Zero, options.ConnectBudget);
        Assert.Equal(TimeSpan.FromSeconds(30), options.WebSocketPingInterval);
        Assert.Equal(TimeSpan.Zero, options.WebSocketPingTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), options.WebSocketCloseTimeout);
        using var client = new SandboxClient(options);
        Assert.Equal("https://lc.example.com/api/v2/sandboxes", client.BaseUrl.OriginalString);
    }

    [Fact]
    public async Task ApiKey_ExplicitWins_AndToStringNeverShowsIt()
    {
        // Scenarios 3, 6
        await using var server = await FakeSandboxServer.StartAsync();
        server.OnJson("GET", "/boxes", 200, new { sandboxes = Array.Empty<object>() });
        using var client = server.CreateClient(o => o.ApiKey = "explicit-secret");
        await client.ListSandboxesAsync();
        Assert.Equal("explicit-secret", Assert.Single(server.Requests).Header("X-Api-Key"));
        Assert.Equal($"SandboxClient (API URL: {server.Url})", client.ToString());
        Assert.DoesNotContain("explicit-secret", client.ToString());
    }

    [Fact]
    public async Task DefaultHeaders_GoOnEveryRequest_AndOverrideApiKeyCaseInsensitively()
    {
        // Scenarios 4, 5
        await using var server = await FakeSandboxServer.StartAsync();
        server.OnJson("GET", "/boxes", 200, new { sandboxes = Array.Empty<object>() });
        using var client = server.CreateClient(o =>
        {
            o.DefaultHeaders["X-Service-Key"] = "svc-jwt";
            o.DefaultHeaders["x-api-key"] = "override-key";
        });
        await client.ListSandboxesAsync();
        var request = Assert.Single(server.Requests);
        Assert.Equal("svc-jwt", request.Header("X-Service-Key"));
        Assert.Equal("override-key", request.Header("X-Api-Key"));
    }

    [Fact]
    public void Options_AreCopied_LaterChangesHaveNoEffect()
    {
        var options = new SandboxClientOptions { Endpoint = new Uri("http://a"), ApiKey = "k" };
        options.DefaultHeaders["A"] = "1";
        using var client = new SandboxClient(options);
        options.DefaultHeaders["A"] = "2";
        options.Endpoint = new Uri("http://b");
        Assert.Equal("1", client.Options.DefaultHeaders["a"]);
        Assert.Equal("http://a", client.BaseUrl.OriginalString);
    }

    [Fact]
    public void AddSandboxClient_RegistersOneConfiguredSingleton()
    {
        var services = new ServiceCollection();
        services.AddSandboxClient(o => { o.Endpoint = new Uri("http://127.0.0.1:1/v2/sandboxes"); o.ApiKey = "k"; });
        services.AddSandboxClient(o => o.Endpoint = new Uri("http://other"));
        using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<SandboxClient>();
        Assert.Same(client, provider.GetRequiredService<SandboxClient>());
        Assert.Equal("http://127.0.0.1:1/v2/sandboxes", client.BaseUrl.OriginalString);
        Assert.Single(services, d => d.ServiceType == typeof(SandboxClient));
    }
}
