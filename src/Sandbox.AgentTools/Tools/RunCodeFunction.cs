using Microsoft.Extensions.AI;

namespace Sandbox.AgentTools;

/// <summary><c>run_code(code, language, timeout_seconds?)</c>.</summary>
internal sealed class RunCodeFunction(SandboxToolContext context) : SandboxToolFunction<RunCodeFunction.Args>(context, "run_code",
    "Run code in this conversation's sandbox (an isolated Linux box) and get back stdout, stderr, the exit status, files created or changed, and images. " +
    "python and javascript run in a persistent interpreter: variables, imports and functions stay defined between calls, and the value of a final expression is printed. " +
    "bash runs each call as a fresh shell in the workspace directory (files persist, shell variables do not). " +
    "Images saved to the directory in the SANDBOX_OUTPUT_DIR environment variable, and open matplotlib figures, are returned as images. " +
    "Long output is truncated in the middle. A call that runs past its timeout is interrupted; the interpreter keeps its state.",
    ToolSchemas.For<RunCodeArguments>(context.Options, context.Policy, s => ToolSchemas.SetMaximum(s, "timeout_seconds", context.Options.MaxTimeout.TotalSeconds)))
{
    internal sealed record Args(string Code, CodeLanguage Language, TimeSpan Timeout);

    protected override Args Parse(AIFunctionArguments arguments)
    {
        string code = ToolArgs.GetString(arguments, "code", required: true)!;
        if (code.Length > 1_000_000)
        {
            throw new ToolArgumentException("The code is longer than 1,000,000 characters.", hint: "Write large data to a file with write_file and load it from the code.");
        }

        CodeLanguage language = ToolArgs.GetChoice(arguments, "language", "python", "python", "javascript", "bash") switch
        {
            "javascript" => CodeLanguage.JavaScript,
            "bash" => CodeLanguage.Bash,
            _ => CodeLanguage.Python,
        };
        double max = Context.Options.MaxTimeout.TotalSeconds;
        double? seconds = ToolArgs.GetNumber(arguments, "timeout_seconds", 1, max);
        TimeSpan timeout = seconds is { } s ? TimeSpan.FromSeconds(s) : Context.Options.DefaultTimeout;
        return new Args(code, language, timeout);
    }

    protected override async Task<ToolOutput> ExecuteAsync(SandboxLease lease, Args args, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        (RunCodeResult result, IReadOnlyList<DataContent> images) = await Context.Runner.RunAsync(lease, args.Language, args.Code, args.Timeout,
            invocation.ConversationId, invocation.ToolCallId, cancellationToken).ConfigureAwait(false);
        return ToolOutput.From(result, images);
    }
}
