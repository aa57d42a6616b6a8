using System.Diagnostics;

namespace Sandbox.Cli.Tests.Infrastructure;

/// <summary>
/// A real terminal for the interactive console: a detached tmux session on a private tmux server (its own socket),
/// driven with send-keys and read with capture-pane, as a person would type and look.
/// </summary>
public sealed class TmuxSession : IDisposable
{
    private readonly string _socket = "sandbox-cli-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _name = "console";

    public TmuxSession(string command, IReadOnlyDictionary<string, string?> env, int columns = 100, int rows = 30)
    {
        var args = new List<string> { "new-session", "-d", "-s", _name, "-x", columns.ToString(System.Globalization.CultureInfo.InvariantCulture), "-y", rows.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        foreach (var (key, value) in env)
        {
            if (value is not null)
            {
                args.Add("-e");
                args.Add($"{key}={value}");
            }
        }

        // The exit code stays on screen after the console ends.
        args.Add($"{command}; echo CONSOLE-EXIT=$?; sleep 600");
        Tmux(args);
    }

    public void SendKeys(params string[] keys) => Tmux(["send-keys", "-t", _name, .. keys]);

    /// <summary>Types a line of text literally and presses Enter.</summary>
    public void TypeLine(string text)
    {
        Tmux(["send-keys", "-t", _name, "-l", text]);
        Tmux(["send-keys", "-t", _name, "Enter"]);
    }

    public void Resize(int columns, int rows) =>
        Tmux(["resize-window", "-t", _name, "-x", columns.ToString(System.Globalization.CultureInfo.InvariantCulture), "-y", rows.ToString(System.Globalization.CultureInfo.InvariantCulture)]);

    public string Screen() => Tmux(["capture-pane", "-p", "-t", _name, "-S", "-200"]);

    /// <summary>Waits until the screen satisfies the condition; fails with the screen's content.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        string screen = "";
        while (deadline.Elapsed < (timeout ?? TimeSpan.FromSeconds(30)))
        {
            screen = Screen();
            if (condition(screen))
            {
                return screen;
            }

            await Task.Delay(150);
        }

        Assert.Fail($"the terminal never showed {what}; screen:\n{screen}");
        return screen;
    }

    public Task<string> WaitForTextAsync(string text, TimeSpan? timeout = null) =>
        WaitForAsync(s => s.Contains(text, StringComparison.Ordinal), $"'{text}'", timeout);

    public void Dispose()
    {
        try
        {
            Tmux(["kill-server"]);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private string Tmux(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-L");
        psi.ArgumentList.Add(_socket);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Remove("TMUX");
        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', args)} failed: {error}");
        }

        return output;
    }
}
