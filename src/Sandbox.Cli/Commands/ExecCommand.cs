using System.CommandLine;
using System.Text;
using System.Text.RegularExpressions;
using Sandbox.Cli.Infrastructure;
using Sandbox.Client;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox exec NAME -- COMMAND…</c>: runs a command in the sandbox with stdout and stderr streamed live to the
/// local ones, stdin forwarded when it is not a terminal, the command's exit code as the CLI's, and Ctrl+C killing the
/// remote command (and, should the CLI die instead, the server kills it when the connection drops).
/// </summary>
internal static partial class ExecCommand
{
    public static Command Build()
    {
        var name = BoxCommands.NameArgument();
        var words = new Argument<string[]>("command")
        {
            Description = "The command, after '--'. One word is run by the shell as written; several are shell-quoted and joined",
            Arity = ArgumentArity.OneOrMore,
        };
        var timeout = new Option<int>("--timeout") { Description = "Kill the command after this many seconds (default 0: no limit)", DefaultValueFactory = _ => 0 };
        var cwd = new Option<string?>("--cwd") { Description = "Working directory inside the sandbox" };
        var env = new Option<string[]>("--env", "-e") { Description = "Environment variable KEY=VALUE (repeatable)", AllowMultipleArgumentsPerToken = false };
        var command = new Command("exec", "Run a command inside a sandbox") { name, words, timeout, cwd, env };
        CliApp.Handle(command, async ctx =>
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in ctx.Get(env) ?? [])
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new CliException($"--env: expected KEY=VALUE, got '{pair}'", 2);
                }

                environment[pair[..eq]] = pair[(eq + 1)..];
            }

            var box = await ctx.Client.GetSandboxAsync(ctx.Get(name), ctx.Interrupt).ConfigureAwait(false);
            return await RunAsync(box, JoinCommand(ctx.Get(words)), new RunOptions
            {
                Timeout = TimeSpan.FromSeconds(ctx.Get(timeout)),
                Cwd = ctx.Get(cwd),
                Env = environment.Count > 0 ? environment : null,
                KillOnDisconnect = true,
                CloseStdin = !Console.IsInputRedirected,
                CollectOutput = false,
            }, ctx.Interrupt).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Streams a started command to the local stdout/stderr; returns its exit code, or 130 after Ctrl+C.</summary>
    public static async Task<int> RunAsync(SandboxInstance box, string commandText, RunOptions options, CancellationToken interrupt)
    {
        await using var handle = await box.StartCommandAsync(commandText, options, interrupt).ConfigureAwait(false);
        _ = options.CloseStdin == false && !options.Pty ? Task.Run(() => PumpStdinAsync(handle, interrupt), CancellationToken.None) : Task.CompletedTask;
        using var stdout = Console.OpenStandardOutput();
        using var stderr = Console.OpenStandardError();
        try
        {
            await foreach (var chunk in handle.ReadOutputAsync(interrupt).ConfigureAwait(false))
            {
                var target = chunk.Stream == OutputStreamKind.Stdout ? stdout : stderr;
                var bytes = Encoding.UTF8.GetBytes(chunk.Data);
                await target.WriteAsync(bytes, CancellationToken.None).ConfigureAwait(false);
                await target.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }

            var result = await handle.WaitAsync(interrupt).ConfigureAwait(false);
            return result.ExitCode;
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await handle.KillAsync(budget.Token).ConfigureAwait(false);
                Console.Error.WriteLine("interrupted: the remote command was killed");
            }
            catch (Exception e) when (e is SandboxException or OperationCanceledException or IOException)
            {
                Console.Error.WriteLine("interrupted: could not confirm the remote command was killed: " + CliErrors.Scrub(e.Message));
            }

            return 130;
        }
    }

    /// <summary>Local stdin to the command's stdin until end of file, then a half-close.</summary>
    private static async Task PumpStdinAsync(CommandHandle handle, CancellationToken cancellationToken)
    {
        try
        {
            using var stdin = Console.OpenStandardInput();
            var decoder = Encoding.UTF8.GetDecoder();
            var bytes = new byte[16 * 1024];
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

            int tail = decoder.GetChars([], 0, 0, chars, 0, flush: true);
            if (tail > 0)
            {
                await handle.SendInputAsync(new string(chars, 0, tail), cancellationToken).ConfigureAwait(false);
            }

            await handle.CloseInputAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SandboxException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The command ended (or the user interrupted) before stdin did: nothing left to feed.
        }
    }

    /// <summary>One word is passed as written (it may be a whole shell line); several are shell-quoted and joined.</summary>
    public static string JoinCommand(IReadOnlyList<string> words) =>
        words.Count == 1 ? words[0] : string.Join(' ', words.Select(Quote));

    public static string Quote(string word) =>
        word.Length > 0 && SafeWord().IsMatch(word) ? word : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"^[A-Za-z0-9_@%+=:,./-]+$")]
    private static partial Regex SafeWord();
}
