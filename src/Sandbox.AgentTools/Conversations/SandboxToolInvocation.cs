using Microsoft.Extensions.AI;

namespace Sandbox.AgentTools;

/// <summary>One tool call, as handed to <see cref="SandboxToolOptions.ConversationResolver"/>.</summary>
/// <remarks>
/// The framework's own context is reachable from here: <see cref="FunctionInvokingChatClient.CurrentContext"/> under
/// Microsoft.Extensions.AI, <c>AIAgent.CurrentRunContext</c> under Agent Framework, and, under Semantic Kernel (with the
/// <c>Sandbox.AgentTools.SemanticKernel</c> filter), the <c>Kernel</c>, <c>ChatHistory</c> and
/// <c>AutoFunctionInvocationContext</c> in <see cref="AIFunctionArguments.Context"/> keyed by their <see cref="Type"/>.
/// </remarks>
public sealed class SandboxToolInvocation
{
    internal SandboxToolInvocation(string toolName, string? toolCallId, AIFunctionArguments arguments)
    {
        ToolName = toolName;
        ToolCallId = toolCallId;
        Arguments = arguments;
    }

    /// <summary>The tool's own name (<c>run_code</c>, ...), without any plugin prefix.</summary>
    public string ToolName { get; }

    /// <summary>The model's call id, when the framework or host gave one.</summary>
    public string? ToolCallId { get; }

    /// <summary>The call's arguments, with <see cref="AIFunctionArguments.Context"/> and <see cref="AIFunctionArguments.Services"/>.</summary>
    public AIFunctionArguments Arguments { get; }
}
