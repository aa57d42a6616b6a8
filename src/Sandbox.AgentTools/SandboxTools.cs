using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sandbox.AgentTools;

/// <summary>
/// Creates the sandbox tools for one conversation: <c>run_code</c>, <c>write_file</c>, <c>read_file</c>,
/// <c>list_files</c> and <c>expose_port</c>.
/// </summary>
/// <remarks>
/// <para><b>Conversation model.</b> A tool set belongs to one conversation: create one per chat thread / agent session
/// with that conversation's id and pass it to the chat options of that conversation only. Every call of the set runs in
/// the conversation's own box (rented from the pool by that id), so state persists across turns and is never shared
/// with another conversation. Creating a set is cheap (no network call); the box is rented on the first call.</para>
/// <para><b>Results.</b> Each tool returns a <see cref="System.Text.Json.JsonElement"/> (a snake_case JSON record); when
/// images are attached (plots, image files) it returns a list of <see cref="AIContent"/>: a <see cref="TextContent"/>
/// with the JSON, then one <see cref="DataContent"/> per image. Expected failures (bad arguments, paths outside the
/// workspace, timeouts, a busy pool) are returned as <c>{"error", "error_type", "hint"}</c> records, not thrown.</para>
/// <para><b>Tool call id.</b> Hosts may put the model's call id into <see cref="AIFunctionArguments.Context"/> under
/// <see cref="ToolCallIdKey"/>; it is recorded on the <c>execute_tool</c> span as <c>gen_ai.tool.call.id</c>.</para>
/// </remarks>
public static class SandboxTools
{
    /// <summary>Key in <see cref="AIFunctionArguments.Context"/> under which a host passes the tool call id (a string).</summary>
    public const string ToolCallIdKey = "gen_ai.tool.call.id";

    /// <summary>Names of the tools, in the order <see cref="Create"/> returns them.</summary>
    public static IReadOnlyList<string> ToolNames { get; } = ["run_code", "write_file", "read_file", "list_files", "expose_port"];

    /// <summary>Creates the tool set of one conversation.</summary>
    /// <param name="pool">The pool the conversation's box comes from.</param>
    /// <param name="conversationId">The conversation (affinity key); calls of this set share one box.</param>
    /// <param name="options">Limits and behaviour; defaults when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="timeProvider">Clock for timeouts and durations; the system clock when null.</param>
    /// <returns>The tools, ready to put into <c>ChatOptions.Tools</c>.</returns>
    public static IList<AITool> Create(SandboxLeasePool pool, string conversationId, SandboxToolOptions? options = null,
        ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        options ??= new SandboxToolOptions();
        var context = new SandboxToolContext(pool, conversationId, options, timeProvider ?? TimeProvider.System,
            loggerFactory?.CreateLogger(typeof(SandboxTools).FullName!) ?? NullLogger.Instance);
        AIFunction exposePort = new ExposePortFunction(context);
        return
        [
            new RunCodeFunction(context),
            new WriteFileFunction(context),
            new ReadFileFunction(context),
            new ListFilesFunction(context),
            options.RequireApprovalForExposePort ? new ApprovalRequiredAIFunction(exposePort) : exposePort,
        ];
    }

    internal static string? GetToolCallId(AIFunctionArguments arguments) =>
        arguments.Context is { } context && context.TryGetValue(ToolCallIdKey, out object? value) ? value as string : null;
}
