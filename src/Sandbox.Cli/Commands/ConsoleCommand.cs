using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Sandbox.Cli.Infrastructure;
using Sandbox.Cli.Terminal;
using Sandbox.Client;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox console NAME [--shell SHELL] [--forward-ssh-agent]</c>: an interactive shell on a pseudo-terminal in the
/// sandbox, with the local terminal in raw mode. The remote terminal starts at the local size (set with <c>stty</c>
/// before the shell starts, so it works against any server) and follows resizes: on SIGWINCH a short side command sets
/// the new size on the shell's terminal, which sends the shell SIGWINCH.
/// </summary>
internal static class ConsoleCommand
{
    public static Command Build()
    {
        var name = BoxCommands.NameArgument();
        var shell = new Option<string>("--shell") { Description = "Shell to start (default /bin/bash)", DefaultValueFactory = _ => "/bin/bash" };
        var agent = new Option<bool>("--forward-ssh-agent") { Description = "Make the local SSH agent (SSH_AUTH_SOCK) usable inside the sandbox during the session" };
        var command = new Command("console", "Open an interactive shell inside a sandbox") { name, shell, agent };
        CliApp.Handle(command, async ctx =>
        {
            if (OperatingSystem.IsWindows())
            {
                throw new CliException("interactive consoles are not supported on Windows; use 'sandbox ssh-setup' and ssh");
            }

            if (Console.IsInputRedirected || Console.IsOutputRedirected)
            {
                throw new CliException("console needs a terminal on stdin and stdout; use 'sandbox exec' for scripts");
            }

            var box = await ctx.Client.GetSandboxAsync(ctx.Get(name), ctx.Interrupt).ConfigureAwait(false);
            SshAgentForwarder? forwarder = ctx.Get(agent) ? await SshAgentForwarder.StartAsync(box, ctx.Interrupt).ConfigureAwait(false) : null;
            try
            {
                return await RunAsync(box, ctx.Get(shell), forwarder?.RemoteSocket, ctx.Interrupt).ConfigureAwait(false);
            }
            finally
            {
                if (forwarder is not null)
                {
                    await forwarder.DisposeAsync().ConfigureAwait(false);
                }
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(SandboxInstance box, string shell, string? agentSocket, CancellationToken interrupt)
    {
        var (columns, rows) = TerminalMode.Size();
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["TERM"] = Environment.GetEnvironmentVariable("TERM") is { Length: > 0 } term ? term : "xterm-256color" };
        if (agentSocket is not null)
        {
            env["SSH_AUTH_SOCK"] = agentSocket;
        }

        string start = $"stty rows {rows.ToString(CultureInfo.InvariantCulture)} cols {columns.ToString(CultureInfo.InvariantCulture)} 2>/dev/null; exec {ExecCommand.Quote(shell)} -l";
        await using var handle = await box.StartCommandAsync(start, new RunOptions
        {
            Pty = true,
            Shell = shell,
            Timeout = TimeSpan.Zero,
            KillOnDisconnect = true,
            CollectOutput = false,
            Env = env,
        }, interrupt).ConfigureAwait(false);

        using var resize = OperatingSystem.IsWindows() ? null : new ResizeFollower(box, handle);
        using var terminal = TerminalMode.EnterRaw();
        using var session = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
        _ = Task.Run(() => PumpKeysAsync(handle, session.Token), CancellationToken.None);
        using var stdout = Console.OpenStandardOutput();
        try
        {
            await foreach (var chunk in handle.ReadOutputAsync(interrupt).ConfigureAwait(false))
            {
                await stdout.WriteAsync(Encoding.UTF8.GetBytes(chunk.Data), CancellationToken.None).ConfigureAwait(false);
                await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }

            return (await handle.WaitAsync(interrupt).ConfigureAwait(false)).ExitCode;
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            // SIGTERM (Ctrl+C itself reaches the remote shell as a byte in raw mode).
            using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await handle.KillAsync(budget.Token).ConfigureAwait(false);
            return 130;
        }
        finally
        {
            await session.CancelAsync().ConfigureAwait(false);
        }
    }

    private static async Task PumpKeysAsync(CommandHandle handle, CancellationToken cancellationToken)
    {
        try
        {
            // fd 0 itself: Console.OpenStandardInput() on a terminal goes through .NET's line editor, which echoes and
            // buffers lines — the opposite of raw mode.
            using var stdin = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
            var decoder = Encoding.UTF8.GetDecoder();
            var bytes = new byte[4096];
            var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
            int read;
            while ((read = await stdin.ReadAsync(bytes, cancellationToken).ConfigureAwait(false)) > 0)
            {
                int count = decoder.GetChars(bytes, 0, read, chars, 0, flush: false);
                if (count > 0)
                {
                    await handle.SendInputAsync(new string(chars, 0, count), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SandboxException or OperationCanceledException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>On SIGWINCH, sets the new size on the terminal of the shell the PTY runs (the child of the command's pid).</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private sealed class ResizeFollower : IDisposable
    {
        private readonly SandboxInstance _box;
        private readonly CommandHandle _handle;
        private readonly PosixSignalRegistration _registration;
        private readonly SemaphoreSlim _gate = new(1, 1);

        public ResizeFollower(SandboxInstance box, CommandHandle handle)
        {
            _box = box;
            _handle = handle;
            _registration = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context =>
            {
                context.Cancel = true;
                _ = Task.Run(ApplyAsync);
            });
        }

        public void Dispose()
        {
            _registration.Dispose();
            _gate.Dispose();
        }

        private async Task ApplyAsync()
        {
            if (_handle.Pid is not { } pid || !await _gate.WaitAsync(0).ConfigureAwait(false))
            {
                return;
            }

            try
            {
                await Task.Delay(100).ConfigureAwait(false);   // let a drag settle
                var (columns, rows) = TerminalMode.Size();
                string p = pid.ToString(CultureInfo.InvariantCulture);
                string command = $"for c in $(cat /proc/{p}/task/{p}/children 2>/dev/null); do stty -F /proc/$c/fd/0 rows {rows.ToString(CultureInfo.InvariantCulture)} cols {columns.ToString(CultureInfo.InvariantCulture)} 2>/dev/null; done";
                await _box.RunAsync(command, new RunOptions { Timeout = TimeSpan.FromSeconds(10), Shell = "/bin/sh" }).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SandboxException or IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                try
                {
                    _gate.Release();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }
    }
}
