using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>
/// The Semantic Kernel side of the sandbox plugin, as an auto function invocation filter: hands the call id and the chat
/// history (the conversation) to the functions, asks <see cref="SandboxKernelOptions.ApproveAsync"/> before a call that needs
/// approval, and moves tool-result images out of the tool message (see <see cref="ToolResultImagesChatCompletionService"/>).
/// </summary>
/// <remarks>Registered by <c>IKernelBuilder.AddSandboxTools</c>, <c>IServiceCollection.AddSandboxKernelTools</c> and <c>Kernel.AddSandboxTools</c>.</remarks>
/// <param name="options">The plugin's options (its name and the approval callback).</param>
public sealed class SandboxKernelFilter(SandboxKernelOptions options) : IAutoFunctionInvocationFilter
{
    private readonly SandboxKernelOptions _options = options ?? throw new ArgumentNullException(nameof(options));

    /// <inheritdoc/>
    public async Task OnAutoFunctionInvocationAsync(AutoFunctionInvocationContext context, Func<AutoFunctionInvocationContext, Task> next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        KernelFunction function = context.Function;
        if (!SandboxKernelPlugin.IsSandboxFunction(function) || function.PluginName != _options.PluginName)
        {
            await next(context).ConfigureAwait(false);
            EndRoundForImages(context);
            return;
        }

        bool needsApproval = SandboxKernelPlugin.RequiresApproval(function);
        if (needsApproval)
        {
            var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (KeyValuePair<string, object?> pair in context.Arguments ?? [])
            {
                arguments[pair.Key] = pair.Value;
            }

            bool approved = _options.ApproveAsync is { } approve &&
                await approve(new SandboxApprovalRequest(_options.PluginName, function.Name, context.ToolCallId, arguments), context.CancellationToken).ConfigureAwait(false);
            if (!approved)
            {
                context.Result = new FunctionResult(function, SandboxKernelPlugin.NotApproved(_options.ModelName(function.Name), byHost: true));
                EndRoundForImages(context);
                return;
            }
        }

        KernelRequestScope? request = KernelRequestScope.Current;
        using (KernelInvocationScope.Enter(new KernelInvocationScope(context, needsApproval, ConversationHistory(context, request))))
        {
            await next(context).ConfigureAwait(false);
        }

        if (context.Result?.GetValue<object>() is ChatMessageContent message && message.Items.OfType<ImageContent>().Any())
        {
            // The tool message gets the JSON record only; the images go into a user message after this round's tool messages.
            context.Result = new FunctionResult(context.Result, message.Content ?? string.Empty);
            request?.Add(_options.ModelName(function.Name), context.ToolCallId, message.Items.OfType<ImageContent>());
        }

        EndRoundForImages(context);
    }

    /// <summary>
    /// The chat history that names the conversation: the caller's, from <see cref="ToolResultImagesChatCompletionService"/>
    /// when the request goes through it; else the filter's own when it is the caller's (the OpenAI connector path). On the
    /// <c>IChatClient</c> bridge without that service, the filter's history is a new copy per call: null, so the call's
    /// conversation comes from the other sources (kernel.Data, the resolver, the chat options) or the call is refused.
    /// </summary>
    private static ChatHistory? ConversationHistory(AutoFunctionInvocationContext context, KernelRequestScope? request)
    {
        if (request is not null)
        {
            return request.History;
        }

        bool bridgeCopy = FunctionInvokingChatClient.CurrentContext is { } invocation && ReferenceEquals(invocation.Messages, context.Messages);
        return bridgeCopy ? null : context.ChatHistory;
    }

    /// <summary>After the round's last call, ends auto-invocation so the decorating service can add the images and continue.</summary>
    private static void EndRoundForImages(AutoFunctionInvocationContext context)
    {
        if (context.FunctionSequenceIndex == context.FunctionCount - 1 && KernelRequestScope.Current is { HasImages: true } request)
        {
            request.MarkTerminated();
            context.Terminate = true;
        }
    }
}
