using System.Diagnostics;
using System.Text.RegularExpressions;
using Sandbox.Cli.Tests.Infrastructure;

namespace Sandbox.Cli.Tests.Commands;

/// <summary>The interactive console in a real pseudo-terminal (tmux): typing commands and reading the screen.</summary>
[Collection(CliCollection.Name)]
public sealed partial class ConsoleCommandTests(CliFixture fixture) : IAsyncLifetime
{
    private string _box = "";

    public async ValueTask InitializeAsync() => _box = await fixture.CreateBoxAsync("console");

    public async ValueTask DisposeAsync() => await fixture.RunAsync("delete", _box);

    [Fact]
    public async Task Console_RunsTypedCommands_InRawMode_WithTheTerminalSize_FollowsResizes_AndPassesCtrlC()
    {
        using var tmux = new TmuxSession($"{CliRunner.ShellCommand} console {_box}", fixture.Env, columns: 100, rows: 30);
        await tmux.WaitForTextAsync("root@sandbox");

        tmux.TypeLine("echo typed-$((6*7)); tty; stty size");
        await tmux.WaitForTextAsync("typed-42");
        var screen = await tmux.WaitForTextAsync("30 100");   // the last output of the line
        Assert.Matches(@"/dev/pts/\d+", screen);
        // Raw mode locally: the typed line appears once (the remote terminal's echo), not twice.
        Assert.Single(Regex.Matches(tmux.Screen(), Regex.Escape("echo typed-$((6*7))")));

        tmux.Resize(120, 40);
        await Task.Delay(1500);   // SIGWINCH -> side command that sets the remote size
        tmux.TypeLine("stty size");
        await tmux.WaitForTextAsync("40 120");

        // Ctrl+C reaches the remote foreground command as an interrupt, and the shell carries on.
        tmux.TypeLine("sleep 300");
        await Task.Delay(1000);
        tmux.SendKeys("C-c");
        tmux.TypeLine("echo after-$((1+1))-interrupt");
        await tmux.WaitForTextAsync("after-2-interrupt");

        tmux.TypeLine("exit 7");
        await tmux.WaitForTextAsync("CONSOLE-EXIT=7");
    }

    [Fact]
    public async Task Console_WithShellOption_StartsThatShell()
    {
        using var tmux = new TmuxSession($"{CliRunner.ShellCommand} console {_box} --shell /bin/sh", fixture.Env);
        await tmux.WaitForAsync(s => Regex.IsMatch(s, @"^#\s*$", RegexOptions.Multiline), "the sh prompt");
        tmux.TypeLine("readlink -f /proc/$$/exe; echo shell-$((2+3))");
        var screen = await tmux.WaitForTextAsync("shell-5");
        Assert.Contains("/usr/bin/dash", screen, StringComparison.Ordinal);
        tmux.TypeLine("exit");
        await tmux.WaitForTextAsync("CONSOLE-EXIT=0");
    }

    [Fact]
    public async Task Console_ForwardSshAgent_MakesTheLocalAgentUsableInTheBox()
    {
        string dir = Path.Combine(fixture.TempRoot, "agent-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        string socket = Path.Combine(dir, "agent.sock");
        string key = Path.Combine(dir, "id_ed25519");
        Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "forwarded-key@test", "-f", key);
        using var agent = Process.Start(new ProcessStartInfo("ssh-agent", ["-D", "-a", socket]) { RedirectStandardOutput = true, UseShellExecute = false })!;
        try
        {
            for (int i = 0; i < 50 && !File.Exists(socket); i++)
            {
                await Task.Delay(100);
            }

            var add = new ProcessStartInfo("ssh-add", [key]) { UseShellExecute = false, RedirectStandardError = true };
            add.Environment["SSH_AUTH_SOCK"] = socket;
            using (var adding = Process.Start(add)!)
            {
                await adding.WaitForExitAsync();
                Assert.Equal(0, adding.ExitCode);
            }

            var env = fixture.Env;
            env["SSH_AUTH_SOCK"] = socket;
            using var tmux = new TmuxSession($"{CliRunner.ShellCommand} console {_box} --forward-ssh-agent", env);
            await tmux.WaitForTextAsync("root@sandbox");
            tmux.TypeLine("ssh-add -l; echo agent-check-$?");
            // The typed line contains "agent-check-" too: wait for the output line.
            var screen = await tmux.WaitForAsync(s => Regex.IsMatch(s, @"^agent-check-\d+\s*$", RegexOptions.Multiline), "the result of ssh-add -l");
            Assert.True(screen.Contains("forwarded-key@test", StringComparison.Ordinal) && screen.Contains("agent-check-0", StringComparison.Ordinal), screen);
            tmux.TypeLine("exit");
            await tmux.WaitForTextAsync("CONSOLE-EXIT=0");
        }
        finally
        {
            agent.Kill();
        }

        var withoutAgent = fixture.Env;
        withoutAgent["SSH_AUTH_SOCK"] = "";
        using var failing = new TmuxSession($"{CliRunner.ShellCommand} console {_box} --forward-ssh-agent", withoutAgent);
        var failed = await failing.WaitForTextAsync("CONSOLE-EXIT=1");
        Assert.Contains("error: --forward-ssh-agent needs a running local SSH agent", failed, StringComparison.Ordinal);
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false, RedirectStandardError = true })!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} failed: {process.StandardError.ReadToEnd()}");
    }
}
