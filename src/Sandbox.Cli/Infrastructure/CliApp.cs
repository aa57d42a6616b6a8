using System.CommandLine;
using Sandbox.Cli.Commands;

namespace Sandbox.Cli.Infrastructure;

/// <summary>The command tree and how it is run.</summary>
internal static class CliApp
{
    private static CancellationToken s_interrupt;

    public static async Task<int> RunAsync(string[] args, InterruptSignal interrupt)
    {
        s_interrupt = interrupt.Token;
        var root = BuildRoot();
        // No response files: '@file' is a value of its own here (--proxy-config @proxy.json).
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            // One line: the first problem, and where to look.
            var first = parse.Errors.OrderBy(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal) ? 0 : 1).First();
            var message = string.Join(' ', first.Message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            Console.Error.WriteLine($"error: {message} (see 'sandbox {CommandPath(parse)}--help')");
            return 2;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, interrupt.Token)
            .ConfigureAwait(false);
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "Work with LangSmith sandboxes and the local sandbox server: snapshots, sandboxes, exec, console, tunnels, SSH.\n" +
            "Authenticates with LANGSMITH_API_KEY (or --api-key) against LANGSMITH_ENDPOINT (or --endpoint).")
        {
            GlobalOptions.Format,
            GlobalOptions.Endpoint,
            GlobalOptions.ApiKey,
            SnapshotCommands.Build(),
            BoxCommands.Create(),
            BoxCommands.List(),
            BoxCommands.Get(),
            BoxCommands.Update(),
            BoxCommands.Wait(),
            BoxCommands.Start(),
            BoxCommands.Stop(),
            BoxCommands.Delete(),
            ExecCommand.Build(),
            ConsoleCommand.Build(),
            TunnelCommand.Build(),
            SshSetupCommand.Build(),
            ServerCommand.Build(),
        };
        return root;
    }

    /// <summary>Sets the action of a command: a <see cref="CliContext"/> in, an exit code out; failures propagate to
    /// <see cref="Program"/>, which prints them as one line.</summary>
    public static void Handle(Command command, Func<CliContext, Task<int>> action) =>
        command.SetAction(async (parse, _) =>
        {
            using var context = new CliContext(parse, s_interrupt);
            return await action(context).ConfigureAwait(false);
        });

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null && result.Command is not RootCommand; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Command.Name);
        }

        return names.Count == 0 ? "" : string.Join(' ', names) + " ";
    }
}
