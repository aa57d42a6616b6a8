using System.Text.Json;
using Sandbox.Protocol;

namespace Sandbox.Client.Tests.Builders;

public sealed class SandboxConfigTests
{
    private static string Json<T>(T value) => JsonSerializer.Serialize(value, SandboxJson.Options);

    [Fact]
    public void WorkspaceSecret_WrapsNameAndKeepsBracedOne()
    {
        // Scenario 85
        Assert.Equal("""{"type":"workspace_secret","value":"{AWS_ACCESS_KEY_ID}"}""", Json(SandboxConfig.WorkspaceSecret("AWS_ACCESS_KEY_ID")));
        Assert.Equal("{AWS_ACCESS_KEY_ID}", SandboxConfig.WorkspaceSecret("{AWS_ACCESS_KEY_ID}").Value);
        Assert.Equal("""{"type":"opaque","value":"AKIAFAKE"}""", Json(SandboxConfig.OpaqueSecret("AKIAFAKE")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("{}")]
    [InlineData("{AWS_ACCESS_KEY_ID")]
    [InlineData("AWS}")]
    public void WorkspaceSecret_InvalidReferences_AreRejected(string name) =>
        Assert.Throws<ArgumentException>(() => SandboxConfig.WorkspaceSecret(name));

    [Fact]
    public void SecretValue_ToString_RedactsValue() =>
        Assert.DoesNotContain("AKIAFAKE", SandboxConfig.OpaqueSecret("AKIAFAKE").ToString());

    [Fact]
    public void AwsAndGcpAuth_EmitSpecShapes()
    {
        // Scenario 86
        var aws = SandboxConfig.AwsAuth(SandboxConfig.WorkspaceSecret("AK"), SandboxConfig.WorkspaceSecret("SK"));
        Assert.Equal(
            """{"name":"aws","type":"aws","enabled":true,"aws":{"access_key_id":{"type":"workspace_secret","value":"{AK}"},"secret_access_key":{"type":"workspace_secret","value":"{SK}"}}}""",
            Json(aws));
        var gcp = SandboxConfig.GcpAuth(SandboxConfig.WorkspaceSecret("SA"), ["https://www.googleapis.com/auth/devstorage.read_write"]);
        Assert.Equal(
            """{"name":"gcp","type":"gcp","enabled":true,"gcp":{"service_account_json":{"type":"workspace_secret","value":"{SA}"},"scopes":["https://www.googleapis.com/auth/devstorage.read_write"]}}""",
            Json(gcp));
        var withEnv = SandboxConfig.AwsAuth(SandboxConfig.OpaqueSecret("a"), SandboxConfig.OpaqueSecret("b"), envVars: new Dictionary<string, string> { [" AWS_PROFILE "] = " x " });
        Assert.Equal(" x ", withEnv.EnvVars!["AWS_PROFILE"]);
    }

    [Fact]
    public void Auth_InvalidEnvVarsAndScopes_AreRejected()
    {
        // Scenario 86
        var a = SandboxConfig.OpaqueSecret("a");
        Assert.Throws<ArgumentException>(() => SandboxConfig.AwsAuth(a, a, envVars: new Dictionary<string, string>()));
        Assert.Throws<ArgumentException>(() => SandboxConfig.AwsAuth(a, a, envVars: new Dictionary<string, string> { [""] = "x" }));
        Assert.Throws<ArgumentException>(() => SandboxConfig.AwsAuth(a, a, envVars: new Dictionary<string, string> { ["A"] = "" }));
        Assert.Throws<ArgumentException>(() => SandboxConfig.GcpAuth(a, []));
        Assert.Throws<ArgumentException>(() => SandboxConfig.AwsAuth(new SecretValue { Type = SecretTypes.Plaintext, Value = "x" }, a));
    }

    [Fact]
    public void ProxyConfig_EmitsRulesNoProxyAndAccessControl_AndRejectsGcpWithoutScopes()
    {
        // Scenario 87 and delta 45 (Py behaviour for no_proxy kept)
        var config = SandboxConfig.ProxyConfig(
            [SandboxConfig.AwsAuth(SandboxConfig.WorkspaceSecret("AK"), SandboxConfig.WorkspaceSecret("SK"))],
            ["metadata.google.internal"],
            SandboxConfig.AllowList("*.googleapis.com", "*.amazonaws.com"));
        var json = JsonDocument.Parse(Json(config)).RootElement;
        Assert.Equal(["rules", "no_proxy", "access_control"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("""{"allow_list":["*.googleapis.com","*.amazonaws.com"]}""", json.GetProperty("access_control").GetRawText());
        Assert.Equal("""{"rules":[]}""", Json(SandboxConfig.ProxyConfig()));
        var ex = Assert.Throws<ArgumentException>(() => SandboxConfig.ProxyConfig([SandboxConfig.GcpAuth(SandboxConfig.WorkspaceSecret("SA"))]));
        Assert.Contains("scopes", ex.Message);
        Assert.Throws<ArgumentException>(() => SandboxConfig.ProxyConfig(noProxy: [" "]));
    }

    [Fact]
    public void AwsRoleAuth_EmitsRoleAndTags_AndRejectsBlankTags()
    {
        // Delta scenario 46
        var rule = SandboxConfig.AwsRoleAuth("arn:aws:iam::123456789012:role/sbx", new Dictionary<string, string> { ["team"] = "ml" });
        Assert.Equal("""{"role_arn":"arn:aws:iam::123456789012:role/sbx","session_tags":{"team":"ml"}}""", Json(rule.Aws));
        Assert.Throws<ArgumentException>(() => SandboxConfig.AwsRoleAuth("arn", new Dictionary<string, string> { ["team"] = " " }));
        Assert.Throws<ArgumentException>(() => SandboxConfig.AwsRoleAuth(""));
        Assert.Equal("""{"aws":{"role_arn":"arn"}}""", Json(SandboxConfig.AwsMountRoleAuth("arn")));
        var tagged = new MountAuth { Aws = new AwsAuth { RoleArn = "arn", SessionTags = new Dictionary<string, string> { ["a"] = "b" } } };
        Assert.Throws<ArgumentException>(() => SandboxConfig.MountConfig([SandboxConfig.S3Mount("s", "/mnt/mounts/s", "b")], [tagged]));
    }

    [Fact]
    public void HeaderRule_EmitsArrayFormWithRedactedToString()
    {
        var rule = SandboxConfig.HeaderRule("github", ["github.com"], [SandboxConfig.SecretHeader("authorization", "Bearer {GITHUB_TOKEN}")]);
        Assert.Equal(
            """{"name":"github","type":"headers","enabled":true,"headers":[{"name":"authorization","type":"workspace_secret","value":"Bearer {GITHUB_TOKEN}"}],"match_hosts":["github.com"]}""",
            Json(rule));
        Assert.DoesNotContain("GITHUB_TOKEN", rule.Headers![0].ToString());
    }

    [Fact]
    public void ProxyRule_MapFormHeaders_AreReadAsArray()
    {
        var rule = JsonSerializer.Deserialize<ProxyRule>("""{"name":"github","type":"headers","headers":{"authorization":"Bearer {GITHUB_TOKEN}"}}""", SandboxJson.Options)!;
        Assert.Equal("authorization", rule.Headers![0].Name);
    }

    [Fact]
    public void MountConfig_EmitsAuthByProviderAndS3Defaults()
    {
        // Scenario 88
        var config = SandboxConfig.MountConfig(
            [
                SandboxConfig.S3Mount("s3_data", "/mnt/mounts/s3-data", "b1", prefix: "datasets", readOnly: true, cacheMaxSizeBytes: 12345, cacheWritebackSeconds: 7),
                SandboxConfig.GcsMount("gcs_data", "/mnt/mounts/gcs-data", "b2", prefix: "datasets"),
            ],
            [
                SandboxConfig.AwsMountAuth(SandboxConfig.WorkspaceSecret("AK"), SandboxConfig.WorkspaceSecret("SK")),
                SandboxConfig.GcpMountAuth(SandboxConfig.WorkspaceSecret("SA")),
            ]);
        var json = JsonDocument.Parse(Json(config)).RootElement;
        Assert.Equal(["aws", "gcp"], json.GetProperty("auth").EnumerateObject().Select(p => p.Name));
        var s3 = json.GetProperty("mounts")[0];
        Assert.Equal(
            """{"id":"s3_data","type":"s3","mount_path":"/mnt/mounts/s3-data","read_only":true,"cache":{"max_size_bytes":12345,"writeback_seconds":7},"s3":{"endpoint_url":"https://s3.amazonaws.com","region":"us-east-1","bucket":"b1","prefix":"datasets","path_style":false}}""",
            s3.GetRawText());
        Assert.Equal("""{"bucket":"b2","prefix":"datasets"}""", json.GetProperty("mounts")[1].GetProperty("gcs").GetRawText());
        var gitOnly = SandboxConfig.MountConfig([SandboxConfig.GitMount("repo", "/mnt/repo", "https://github.com/org/repo.git")]);
        Assert.Equal("{}", JsonDocument.Parse(Json(gitOnly)).RootElement.GetProperty("auth").GetRawText());
    }

    [Fact]
    public void MountConfig_ProviderAuthRules_AreEnforced()
    {
        // Scenario 88, delta 48
        var s3 = SandboxConfig.S3Mount("s", "/mnt/mounts/s", "b");
        var git = SandboxConfig.GitMount("g", "/mnt/g", "https://github.com/o/r");
        var aws = SandboxConfig.AwsMountAuth(SandboxConfig.OpaqueSecret("a"), SandboxConfig.OpaqueSecret("b"));
        Assert.Throws<ArgumentException>(() => SandboxConfig.MountConfig([]));
        Assert.Throws<ArgumentException>(() => SandboxConfig.MountConfig([s3]));
        Assert.Throws<ArgumentException>(() => SandboxConfig.MountConfig([git], [aws]));
        Assert.Throws<ArgumentException>(() => SandboxConfig.MountConfig([s3], [aws, aws]));
        Assert.Throws<ArgumentException>(() => SandboxConfig.MountConfig([SandboxConfig.GcsMount("g", "/mnt/g", "b")]));
        var proxyAws = SandboxConfig.ProxyConfig([SandboxConfig.AwsRoleAuth("arn")]);
        Assert.Single(SandboxConfig.MountConfig([s3], proxyConfig: proxyAws).Mounts);
        var ex = Assert.Throws<ArgumentException>(() => SandboxConfig.MountConfig([s3], [aws], proxyAws));
        Assert.Contains("both", ex.Message);
        var disabled = SandboxConfig.ProxyConfig([SandboxConfig.AwsRoleAuth("arn", enabled: false)]);
        Assert.Throws<ArgumentException>(() => SandboxConfig.MountConfig([s3], proxyConfig: disabled));
    }

    [Fact]
    public void MountConfig_CredentialsInsideMount_AreRejected()
    {
        // Scenario 88
        var leaky = SandboxConfig.S3Mount("s", "/mnt/mounts/s", "b") with
        {
            S3 = JsonDocument.Parse("""{"bucket":"b","nested":{"secret_access_key":"x"}}""").RootElement,
        };
        var aws = SandboxConfig.AwsMountAuth(SandboxConfig.OpaqueSecret("a"), SandboxConfig.OpaqueSecret("b"));
        var ex = Assert.Throws<ArgumentException>(() => SandboxConfig.MountConfig([leaky], [aws]));
        Assert.Contains("secret_access_key", ex.Message);
    }

    [Fact]
    public void GitMount_EmitsRefAndRefresh()
    {
        // Scenario 89
        var mount = SandboxConfig.GitMount("repo", "/mnt/repo", "https://github.com/org/repo.git", "branch", "main", 60);
        Assert.Equal("""{"remote_url":"https://github.com/org/repo.git","ref":{"type":"branch","name":"main"},"refresh_interval_seconds":60}""", mount.Git!.Value.GetRawText());
        Assert.Throws<ArgumentException>(() => SandboxConfig.GitMount("r", "/mnt/r", "https://github.com/o/r", "commit", "abc"));
        Assert.Throws<ArgumentException>(() => SandboxConfig.GitMount("r", "/mnt/r", "https://github.com/o/r", "tag", ""));
        Assert.Throws<ArgumentException>(() => SandboxConfig.GitMount("r", "/mnt/r", "https://github.com/o/r", refreshIntervalSeconds: 0));
    }

    [Theory]
    [InlineData("")]
    [InlineData("http://github.com/o/r")]
    [InlineData("https://github.com")]
    [InlineData("https://github.com/")]
    [InlineData("https://user:pw@github.com/o/r")]
    [InlineData("https://github.com/o/r?x=1")]
    [InlineData("https://github.com/o/r#frag")]
    [InlineData("https://github.com/o/r\n")]
    [InlineData("https://github.com/o/r\0")]
    public void GitMount_InvalidUrls_AreRejected(string url) =>
        Assert.Throws<ArgumentException>(() => SandboxConfig.GitMount("r", "/mnt/r", url));

    [Fact]
    public void ContextHubMountAndS3Encryption_EmitSpecShapes()
    {
        // Scenario 90, delta 47
        Assert.Equal(
            """{"id":"memories","type":"contexthub","mount_path":"/memories","contexthub":{"repo":"-/my-agent","initial_pull_only":true}}""",
            Json(SandboxConfig.ContextHubMount("memories", "/memories", "-/my-agent", true)));
        var s3 = SandboxConfig.S3Mount("s", "/mnt/mounts/s", "b", kmsKey: "arn:aws:kms:us-east-1:1:key/x");
        Assert.Contains("\"encryption\":{\"kms_key\":\"arn:aws:kms:us-east-1:1:key/x\"}", Json(s3));
        Assert.Throws<ArgumentException>(() => SandboxConfig.S3Mount("s", "/mnt/mounts/s", "b", kmsKey: " "));
    }

    [Fact]
    public void NormalizeAccessDelegation_FollowsDelta()
    {
        // Delta scenario 4
        Assert.Equal("""{"mode":"INHERIT"}""", Json(SandboxConfig.NormalizeAccessDelegation(new AccessDelegation { Mode = "INHERIT", Permissions = [] })));
        Assert.Equal("""{"mode":"EXPLICIT","permissions":["runs:create"]}""", Json(SandboxConfig.NormalizeAccessDelegation(new AccessDelegation { Mode = "EXPLICIT", Permissions = ["runs:create"] })));
        Assert.Equal("access_delegation", Assert.Throws<SandboxValidationException>(() => SandboxConfig.NormalizeAccessDelegation(new AccessDelegation { Mode = "INHERIT", Permissions = ["x"] })).Field);
    }
}
