using Sandbox.Cli.Tests.Infrastructure;

namespace Sandbox.Cli.Tests.Commands;

/// <summary>Bad input gives one clear line on stderr and a non-zero exit code; never a stack trace, never the key.</summary>
[Collection(CliCollection.Name)]
public sealed class ErrorTests(CliFixture fixture)
{
    private static void AssertOneLine(CliResult result, int exitCode, string expectedStart)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        var lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, result.ToString());
        Assert.StartsWith(expectedStart, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    [Fact]
    public async Task UnknownBox_IsOneLine()
    {
        AssertOneLine(await fixture.RunAsync("get", "no-such-box"), 1, "error: Sandbox 'no-such-box' not found");
        AssertOneLine(await fixture.RunAsync("exec", "no-such-box", "--", "true"), 1, "error: Sandbox 'no-such-box' not found");
        AssertOneLine(await fixture.RunAsync("delete", "no-such-box"), 1, "error: Sandbox 'no-such-box' not found");
        AssertOneLine(await fixture.RunAsync("tunnel", "no-such-box", "--remote-port", "80"), 1, "error: Sandbox 'no-such-box' not found");
        AssertOneLine(await fixture.RunAsync("snapshot", "get", "no-such-snapshot"), 1, "error: Snapshot 'no-such-snapshot' not found");
    }

    [Fact]
    public async Task BadFlagsAndArguments_AreOneLineWithExitCode2()
    {
        AssertOneLine(await fixture.RunAsync("create", "x", "--bogus"), 2, "error: Unrecognized command or argument '--bogus'");
        AssertOneLine(await fixture.RunAsync("--format", "xml", "list"), 2, "error: Argument 'xml' not recognized");
        AssertOneLine(await fixture.RunAsync("create", "x", "--vcpus", "many"), 2, "error: Cannot parse argument 'many'");
        AssertOneLine(await fixture.RunAsync("create", "x", "--memory", "1 elephant"), 2, "error: --memory: '1 elephant' is not a size");
        AssertOneLine(await fixture.RunAsync("tunnel", "x"), 2, "error: Option '--remote-port' is required");
        AssertOneLine(await fixture.RunAsync("tunnel", "--remote-port", "80"), 2, "error: give either a sandbox name or --url");
        AssertOneLine(await fixture.RunAsync("tunnel", "x", "--remote-port", "70000"), 2, "error: --remote-port must be between 1 and 65535");
        AssertOneLine(await fixture.RunAsync("exec", "x"), 2, "error: Required argument missing for command: 'exec'");
        AssertOneLine(await fixture.RunAsync("frobnicate"), 2, "error: Unrecognized command or argument 'frobnicate'");
        AssertOneLine(await fixture.RunAsync("update", "x"), 2, "error: nothing to update");
        AssertOneLine(await fixture.RunAsync("--endpoint", "not a url", "list"), 2, "error: --endpoint must be an http(s) URL");
    }

    [Fact]
    public async Task UnreadableOrInvalidProxyConfigFile_IsOneLine()
    {
        AssertOneLine(await fixture.RunAsync("create", "x", "--proxy-config", "@/nonexistent/proxy.json"), 2, "error: --proxy-config: cannot read '/nonexistent/proxy.json'");
        string dir = Path.Combine(fixture.TempRoot, "a-directory");
        Directory.CreateDirectory(dir);
        AssertOneLine(await fixture.RunAsync("update", "x", "--proxy-config", "@" + dir), 2, $"error: --proxy-config: cannot read '{dir}'");
        string bad = Path.Combine(fixture.TempRoot, "bad.json");
        await File.WriteAllTextAsync(bad, "{ not json");
        AssertOneLine(await fixture.RunAsync("create", "x", "--proxy-config", "@" + bad), 2, $"error: --proxy-config: '{bad}' is not a valid proxy configuration");
    }

    [Fact]
    public async Task WrongOrMissingKey_IsOneLine_AndTheKeyIsNeverPrinted()
    {
        const string wrong = "lsv2_wrong_key_0123456789abcdef";
        var env = fixture.Env;
        env["LANGSMITH_API_KEY"] = wrong;
        var result = await CliRunner.RunAsync(["list"], env);
        AssertOneLine(result, 1, "error: authentication failed");
        Assert.DoesNotContain(wrong, result.Stderr, StringComparison.Ordinal);

        var flag = await fixture.RunAsync("--api-key", wrong, "exec", "any", "--", "true");
        AssertOneLine(flag, 1, "error: authentication failed");
        Assert.DoesNotContain(wrong, flag.Stderr, StringComparison.Ordinal);

        env["LANGSMITH_API_KEY"] = null;
        AssertOneLine(await CliRunner.RunAsync(["list"], env), 1, "error: no API key: set LANGSMITH_API_KEY or pass --api-key");
    }

    [Fact]
    public async Task UnreachableServer_IsOneLine()
    {
        int port = CliFixture.FreePort();
        AssertOneLine(await fixture.RunAsync("--endpoint", $"http://127.0.0.1:{port}", "list"), 1, "error: cannot reach the sandbox server");
    }

    [Fact]
    public async Task Console_WithoutATerminal_SaysSo()
    {
        string box = await fixture.CreateBoxAsync("noterm");
        AssertOneLine(await fixture.RunAsync("console", box), 1, "error: console needs a terminal");
        await fixture.RunAsync("delete", box);
    }
}
