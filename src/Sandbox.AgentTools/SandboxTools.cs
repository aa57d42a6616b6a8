using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sandbox.AgentTools;

/// <summary>
/// Creates the sandbox tools: <c>run_code</c>, <c>write_file</c>, <c>read_file</c>, <c>list_files</c> and <c>expose_port</c>.
/// </summary>
/// <remarks>
/// <para><b>Conversation model.</b> Every call runs in the box of one conversation (rented from the pool by that id), so state
/// persists across turns and is never shared with another conversation. <see cref="Create(SandboxLeasePool, SandboxToolOptions?, ILoggerFactory?, TimeProvider?)"/>
/// makes one tool set that many conversations may share: each call finds its conversation from the invocation (an explicit
/// id in <see cref="AIFunctionArguments.Context"/>, <see cref="SandboxToolOptions.ConversationResolver"/>, the Agent Framework
/// session, <c>ChatOptions.AdditionalProperties["sandbox.conversation_id"]</c> or <c>ChatOptions.ConversationId</c>); a call
/// whose conversation cannot be determined is refused (or, if configured, runs in a one-off box), never run in a box another
/// conversation used. <see cref="Create(SandboxLeasePool, string, SandboxToolOptions?, ILoggerFactory?, TimeProvider?)"/> fixes
/// the conversation instead. Creating a set is cheap (no network call); a box is rented on the first call.</para>
/// <para><b>Results.</b> Each tool returns a <see cref="System.Text.Json.JsonElement"/> (a snake_case JSON record); when
/// images are attached (plots, image files) it returns a list of <see cref="AIContent"/>: a <see cref="TextContent"/>
/// with the JSON, then one <see cref="DataContent"/> per image (<c>UseSandboxToolImages()</c> on the chat client pipeline moves
/// them into a user message of image parts for the model). Expected failures (bad arguments, paths outside the workspace,
/// timeouts, a busy pool, no conversation) are returned as <c>{"error", "error_type", "hint"}</c> records, not thrown.</para>
/// <para><b>Tool call id.</b> Taken from <see cref="FunctionInvokingChatClient.CurrentContext"/> (the model's call id), or from
/// <see cref="AIFunctionArguments.Context"/> under <see cref="ToolCallIdKey"/> where a host passes it; recorded on the
/// <c>execute_tool</c> span as <c>gen_ai.tool.call.id</c>.</para>
/// </remarks>
public static class SandboxTools
{
    /// <summary>Key in <see cref="AIFunctionArguments.Context"/> under which a host passes the tool call id (a string).</summary>
    public const string ToolCallIdKey = "gen_ai.tool.call.id";

    /// <summary>
    /// Key under which a host names a call's conversation (a string): in <see cref="AIFunctionArguments.Context"/>, in
    /// <c>ChatOptions.AdditionalProperties</c>, in Semantic Kernel's <c>KernelArguments</c> or <c>Kernel.Data</c>.
    /// </summary>
    public const string ConversationIdKey = "sandbox.conversation_id";

    /// <summary>Names of the tools, in the order <see cref="Create(SandboxLeasePool, SandboxToolOptions?, ILoggerFactory?, TimeProvider?)"/> returns them.</summary>
    public static IReadOnlyList<string> ToolNames { get; } = ["run_code", "write_file", "read_file", "list_files", "expose_port"];

    /// <summary>
    /// Creates one tool set for any number of conversations: each call resolves its own conversation from the invocation
    /// (see the remarks of <see cref="SandboxTools"/> and <see cref="SandboxToolOptions.WhenNoConversation"/>).
    /// </summary>
    /// <param name="pool">The pool the conversations' boxes come from.</param>
    /// <param name="options">Limits and behaviour; defaults when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="timeProvider">Clock for timeouts and durations; the system clock when null.</param>
    /// <returns>The tools, ready to put into <c>ChatOptions.Tools</c> or an agent's tools.</returns>
    public static IList<AITool> Create(SandboxLeasePool pool, SandboxToolOptions? options = null, ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null) =>
        CreateCore(pool, conversationId: null, options, loggerFactory, timeProvider, ToolNaming.Plain, wrapApproval: true);

    /// <summary>Creates the tool set of one conversation: every call of this set runs in that conversation's box.</summary>
    /// <param name="pool">The pool the conversation's box comes from.</param>
    /// <param name="conversationId">The conversation (affinity key); calls of this set share one box.</param>
    /// <param name="options">Limits and behaviour; defaults when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    /// <param name="timeProvider">Clock for timeouts and durations; the system clock when null.</param>
    /// <returns>The tools, ready to put into <c>ChatOptions.Tools</c>.</returns>
    public static IList<AITool> Create(SandboxLeasePool pool, string conversationId, SandboxToolOptions? options = null,
        ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        return CreateCore(pool, conversationId, options, loggerFactory, timeProvider, ToolNaming.Plain, wrapApproval: true);
    }

    /// <summary>Creates the functions; <paramref name="naming"/> sets the names prose refers to (a plugin prefix under Semantic Kernel).</summary>
    internal static IList<AITool> CreateCore(SandboxLeasePool pool, string? conversationId, SandboxToolOptions? options, ILoggerFactory? loggerFactory,
        TimeProvider? timeProvider, ToolNaming naming, bool wrapApproval)
    {
        ArgumentNullException.ThrowIfNull(pool);
        options ??= new SandboxToolOptions();
        var context = new SandboxToolContext(pool, conversationId, options, timeProvider ?? TimeProvider.System,
            loggerFactory?.CreateLogger(typeof(SandboxTools).FullName!) ?? NullLogger.Instance, naming);
        AIFunction exposePort = new ExposePortFunction(context);
        return
        [
            new RunCodeFunction(context),
            new WriteFileFunction(context),
            new ReadFileFunction(context),
            new ListFilesFunction(context),
            wrapApproval && options.RequireApprovalForExposePort ? new ApprovalRequiredAIFunction(exposePort) : exposePort,
        ];
    }

    /// <summary>The call id: given by the host in the context, else the one <see cref="FunctionInvokingChatClient"/> is invoking.</summary>
    internal static string? GetToolCallId(AIFunctionArguments arguments, string toolName)
    {
        if (arguments.Context is { } context && context.TryGetValue(ToolCallIdKey, out object? value) && value is string { Length: > 0 } given)
        {
            return given;
        }

        return FunctionInvokingChatClient.CurrentContext?.CallContent is { } call &&
            (call.Name == toolName || call.Name.EndsWith("-" + toolName, StringComparison.Ordinal))
            ? call.CallId
            : null;
    }
}
