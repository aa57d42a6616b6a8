using System.Diagnostics;
using Sandbox.Cli.Tests.Infrastructure;

namespace Sandbox.Cli.Tests.Commands;

[Collection(CliCollection.Name)]
public sealed class ExecCommandTests(CliFixture fixture) : IAsyncLifetime
{
    private string _box = "";

    public async ValueTask InitializeAsync() => _box = await fixture.CreateBoxAsync("exec");

    public async ValueTask DisposeAsync() => await fixture.RunAsync("delete", _box);

    [Fact]
    public async Task Exec_SeparatesStdoutAndStderr_AndPropagatesTheExitCode()
    {
        var ok = await fixture.RunAsync("exec", _box, "--", "python3", "--version");
        Assert.Equal(0, ok.ExitCode);
        Assert.StartsWith("Python 3.", ok.Stdout, StringComparison.Ordinal);

        var mixed = await fixture.RunAsync("exec", _box, "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 3");
        Assert.Equal(3, mixed.ExitCode);
        Assert.Equal("to-out\n", mixed.Stdout);
        Assert.Equal("to-err\n", mixed.Stderr);

        var missing = await fixture.RunAsync("exec", _box, "--", "no-such-command-here");
        Assert.Equal(127, missing.ExitCode);
        Assert.Contains("not found", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_QuotesSeveralWords_AndRunsOneWordAsAShellLine()
    {
        var words = await fixture.RunAsync("exec", _box, "--", "sh", "-c", "printf '[%s]' \"$0\" \"$1\"", "a b", "it's");
        Assert.Equal("[a b][it's]", words.Stdout);

        var line = await fixture.RunAsync("exec", _box, "--", "echo one | tr a-z A-Z && uname -s");
        Assert.Equal("ONE\nLinux\n", line.Stdout);

        var options = await fixture.RunAsync("exec", _box, "--cwd", "/tmp", "--env", "GREETING=hi there", "--", "sh", "-c", "pwd; echo \"$GREETING\"");
        Assert.Equal("/tmp\nhi there\n", options.Stdout);
    }

    [Fact]
    public async Task Exec_ForwardsStdinWhenItIsNotATerminal()
    {
        var counted = await fixture.RunWithInputAsync("alpha\nbeta\ngamma\n", "exec", _box, "--", "wc", "-l");
        Assert.Equal(0, counted.ExitCode);
        Assert.Equal("3", counted.Stdout.Trim());

        var text = string.Concat(Enumerable.Range(0, 20000).Select(i => $"line {i} ünïcode\n"));
        var roundTrip = await fixture.RunWithInputAsync(text, "exec", _box, "--", "sha256sum");
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
        Assert.StartsWith(expected, roundTrip.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_StreamsOutputLive()
    {
        using var process = fixture.Start("exec", _box, "--", "sh", "-c", "echo first; sleep 4; echo second");
        process.StandardInput.Close();
        var clock = Stopwatch.StartNew();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.Equal("first", await CliFixture.ReadLineAsync(process.StandardOutput, TimeSpan.FromSeconds(30)));
        var firstAt = clock.Elapsed;
        string? second = await process.StandardOutput.ReadLineAsync();
        Assert.True(second == "second", $"expected 'second', got '{second}'; stderr: {await stderr}");
        Assert.True(clock.Elapsed - firstAt > TimeSpan.FromSeconds(3), $"'first' arrived only {(clock.Elapsed - firstAt).TotalSeconds:0.0} s before 'second': not streamed");
        await process.WaitForExitAsync();
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task CtrlC_KillsTheRemoteCommand()
    {
        string marker = "sleep-marker-" + Guid.NewGuid().ToString("N")[..6];
        using var process = fixture.Start("exec", _box, "--", "bash", "-c", $"echo started; exec -a {marker} sleep 300");
        process.StandardInput.Close();
        Assert.Equal("started", await CliFixture.ReadLineAsync(process.StandardOutput, TimeSpan.FromSeconds(30)));
        var before = await fixture.RunAsync("exec", _box, "--", "sh", "-c", $"ps -eo args | grep -c '^{marker}'");
        Assert.Equal("1", before.Stdout.Trim());

        CliFixture.Signal(process, "INT");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        Assert.Equal(130, process.ExitCode);
        Assert.Contains("the remote command was killed", await process.StandardError.ReadToEndAsync(), StringComparison.Ordinal);

        var after = await fixture.RunAsync("exec", _box, "--", "sh", "-c", $"ps -eo args | grep -c '^{marker}'");
        Assert.Equal("0", after.Stdout.Trim());
    }
}
