using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Sandbox.Protocol;
using Sandbox.Server.Networking.Egress;

namespace Sandbox.Server.Tests.Networking;

public sealed class EgressPolicyTests
{
    [Theory]
    [InlineData("github.com", "github.com", true)]
    [InlineData("github.com", "GitHub.com.", true)]
    [InlineData("github.com", "api.github.com", false)]
    [InlineData("*.example.com", "a.example.com", true)]
    [InlineData("*.example.com", "a.b.example.com", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "badexample.com", false)]
    [InlineData("api-?.example.com", "api-1.example.com", true)]
    [InlineData("~^api[0-9]+\\.example\\.com$", "api42.example.com", true)]
    [InlineData("~^api[0-9]+\\.example\\.com$", "www.example.com", false)]
    [InlineData("10.0.0.0/8", "10.1.2.3", true)]
    [InlineData("10.0.0.0/8", "11.1.2.3", false)]
    [InlineData("192.168.1.7", "192.168.1.7", true)]
    [InlineData("fd00::/8", "fd12::1", true)]
    public void HostPattern_Matches(string pattern, string host, bool expected)
        => Assert.Equal(expected, HostPattern.Parse(pattern).Matches(host, null));

    [Fact]
    public void CidrPattern_MatchesResolvedAddressOfName()
        => Assert.True(HostPattern.Parse("203.0.113.0/24").Matches("docs.example.test", IPAddress.Parse("203.0.113.9")));

    [Fact]
    public void AllowList_BlocksOthers_NamingTheHost()
    {
        var policy = EgressPolicy.Compile(new ProxyConfig { AccessControl = new AccessControl { AllowList = ["*.googleapis.com", "pypi.org"] } });
        Assert.True(policy.CheckAccess("storage.googleapis.com", null).Allowed);
        var blocked = policy.CheckAccess("evil.test", null);
        Assert.False(blocked.Allowed);
        Assert.Equal("host \"evil.test\" is not in the allow_list", blocked.Reason);
    }

    [Fact]
    public void DenyList_BlocksMatches_NamingTheRule()
    {
        var policy = EgressPolicy.Compile(new ProxyConfig { AccessControl = new AccessControl { DenyList = ["~.*\\.internal$", "10.0.0.0/8"] } });
        Assert.True(policy.CheckAccess("pypi.org", IPAddress.Parse("151.101.0.223")).Allowed);
        Assert.Equal("host \"db.internal\" matches deny_list rule \"~.*\\.internal$\"", policy.CheckAccess("db.internal", null).Reason);
        Assert.False(policy.CheckAccess("intranet.test", IPAddress.Parse("10.3.3.3")).Allowed);
    }

    [Fact]
    public void BothLists_AreRejected()
        => Assert.Throws<FormatException>(() => EgressPolicy.Compile(new ProxyConfig { AccessControl = new AccessControl { AllowList = ["a"], DenyList = ["b"] } }));

    [Fact]
    public void Headers_ArrayAndMapForms_HonourMatchHostsAndPaths_AndResolveSecrets()
    {
        var config = JsonSerializer.Deserialize<ProxyConfig>("""
            {"rules":[
              {"name":"github","type":"headers","enabled":true,"match_hosts":["api.github.com"],"headers":{"Authorization":"Bearer {GITHUB_TOKEN}"}},
              {"name":"svc","type":"headers","match_hosts":["*.example.test"],"match_paths":["/v1/"],
               "headers":[{"name":"X-Key","type":"opaque","value":"opaque-123"},{"name":"X-Plain","type":"plaintext","value":"p"}]},
              {"name":"off","enabled":false,"headers":[{"name":"X-Off","type":"plaintext","value":"no"}]}
            ]}
            """, SandboxJson.Options)!;
        var secrets = new EgressSecrets(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Secrets:GITHUB_TOKEN"] = "ghp_secret" }).Build());
        var policy = EgressPolicy.Compile(config);

        Assert.Equal([new("Authorization", "Bearer ghp_secret")], policy.HeadersFor("api.github.com", null, "/repos", secrets));
        Assert.Equal([new("X-Key", "opaque-123"), new("X-Plain", "p")], policy.HeadersFor("a.example.test", null, "/v1/items?x=1", secrets));
        Assert.Empty(policy.HeadersFor("a.example.test", null, "/v2/items", secrets));
        Assert.Empty(policy.HeadersFor("github.com", null, "/", secrets));
    }

    [Fact]
    public void Secrets_ComeFromEnvironmentToo_AndMissingOnesAreNamed()
    {
        Environment.SetEnvironmentVariable("SANDBOX_SECRET_NETTEST_ENV_TOKEN", "from-env");
        try
        {
            var secrets = new EgressSecrets(new ConfigurationBuilder().Build());
            var policy = EgressPolicy.Compile(new ProxyConfig
            {
                Rules = [new ProxyRule { Name = "r", Headers = [new ProxyHeader { Name = "X-T", Type = SecretTypes.WorkspaceSecret, Value = "{NETTEST_ENV_TOKEN}" }] }],
            });
            Assert.Equal("from-env", policy.HeadersFor("h", null, "/", secrets)[0].Value);

            var missing = EgressPolicy.Compile(new ProxyConfig
            {
                Rules = [new ProxyRule { Name = "r", Headers = [new ProxyHeader { Name = "X-T", Type = SecretTypes.WorkspaceSecret, Value = "{NOT_THERE}" }] }],
            });
            var error = Assert.Throws<EgressSecretMissingException>(() => missing.HeadersFor("h", null, "/", secrets));
            Assert.Contains("NOT_THERE", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SANDBOX_SECRET_NETTEST_ENV_TOKEN", null);
        }
    }

    [Fact]
    public void Redaction_HidesOpaqueValues_KeepsReferences()
    {
        var config = new ProxyConfig
        {
            Rules =
            [
                new ProxyRule
                {
                    Name = "r",
                    Headers = [new ProxyHeader { Name = "A", Type = SecretTypes.Opaque, Value = "s3cret" }, new ProxyHeader { Name = "B", Type = SecretTypes.WorkspaceSecret, Value = "{TOKEN}" }],
                    Aws = new AwsAuth { AccessKeyId = new SecretValue { Type = SecretTypes.Opaque, Value = "AKIA" }, SecretAccessKey = new SecretValue { Type = SecretTypes.WorkspaceSecret, Value = "{AWS}" } },
                },
            ],
        };
        var json = JsonSerializer.Serialize(ProxyConfigRedaction.Redact(config), SandboxJson.Options);
        Assert.DoesNotContain("s3cret", json, StringComparison.Ordinal);
        Assert.DoesNotContain("AKIA", json, StringComparison.Ordinal);
        Assert.Contains("{TOKEN}", json, StringComparison.Ordinal);
        Assert.Contains("\"is_set\":true", json, StringComparison.Ordinal);
    }
}
