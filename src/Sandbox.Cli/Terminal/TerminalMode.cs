using System.Diagnostics;

namespace Sandbox.Cli.Terminal;

/// <summary>
/// Puts the local terminal in raw mode (no echo, no line editing, Ctrl+C passed through as a byte) and restores the
/// exact previous settings on dispose, using <c>stty</c> on the inherited terminal.
/// </summary>
internal sealed class TerminalMode : IDisposable
{
    private readonly string _saved;

    private TerminalMode(string saved)
    {
        _saved = saved;
    }

    public static TerminalMode EnterRaw()
    {
        string saved = Stty("-g").Trim();
        Stty("raw", "-echo");
        return new TerminalMode(saved);
    }

    /// <summary>The terminal size (columns, rows); 80x24 when it cannot be read.</summary>
    public static (int Columns, int Rows) Size()
    {
        try
        {
            var parts = Stty("size").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[0], out int rows) && int.TryParse(parts[1], out int columns) && rows > 0 && columns > 0)
            {
                return (columns, rows);
            }
        }
        catch (InvalidOperationException)
        {
        }

        return (80, 24);
    }

    public void Dispose()
    {
        try
        {
            Stty(_saved);
        }
        catch (InvalidOperationException)
        {
            Stty("sane");
        }
    }

    private static string Stty(params string[] args)
    {
        var psi = new ProcessStartInfo("stty") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("stty could not be started");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("stty failed: " + process.StandardError.ReadToEnd().Trim());
        }

        return output;
    }
}
