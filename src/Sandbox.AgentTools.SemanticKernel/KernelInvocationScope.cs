using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>What <see cref="SandboxKernelFilter"/> knows about the call it is running: flows to the function through the async context.</summary>
internal sealed class KernelInvocationScope(AutoFunctionInvocationContext context, bool approved, ChatHistory? conversationHistory)
{
    private static readonly AsyncLocal<KernelInvocationScope?> CurrentScope = new();

    public static KernelInvocationScope? Current => CurrentScope.Value;

    public AutoFunctionInvocationContext Context { get; } = context;

    /// <summary>True when the host approved this very call (the function checks it against itself).</summary>
    public bool Approved { get; } = approved;

    /// <summary>The caller's chat history (the conversation), or null when it cannot be known (see <see cref="SandboxKernelFilter"/>).</summary>
    public ChatHistory? ConversationHistory { get; } = conversationHistory;

    public static IDisposable Enter(KernelInvocationScope scope)
    {
        KernelInvocationScope? previous = CurrentScope.Value;
        CurrentScope.Value = scope;
        return new Exit(previous);
    }

    private sealed class Exit(KernelInvocationScope? previous) : IDisposable
    {
        public void Dispose() => CurrentScope.Value = previous;
    }
}
