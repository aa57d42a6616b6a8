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
                context.Result = new FunctionResult(function, SandboxKernelPlugin.NotApproved(function.Name, _options.PluginName, byHost: true));
                EndRoundForImages(context);
                return;
            }
        }

        using (KernelInvocationScope.Enter(new KernelInvocationScope(context, needsApproval)))
        {
            await next(context).ConfigureAwait(false);
        }

        if (context.Result?.GetValue<object>() is ChatMessageContent message && message.Items.OfType<ImageContent>().Any())
        {
            // The tool message gets the JSON record only; the images go into a user message after this round's tool messages.
            context.Result = new FunctionResult(context.Result, message.Content ?? string.Empty);
            if (PendingImages.IsDeliveredFor(context.ChatHistory))
            {
                PendingImages.For(context.ChatHistory).Add(_options.PluginName + "-" + function.Name, context.ToolCallId, message.Items.OfType<ImageContent>());
            }
        }

        EndRoundForImages(context);
    }

    /// <summary>After the round's last call, ends auto-invocation so the decorating service can add the images and continue.</summary>
    private static void EndRoundForImages(AutoFunctionInvocationContext context)
    {
        ChatHistory history = context.ChatHistory;
        if (context.FunctionSequenceIndex == context.FunctionCount - 1 && PendingImages.IsDeliveredFor(history) &&
            PendingImages.Find(history) is { HasImages: true } pending)
        {
            pending.Terminated = true;
            context.Terminate = true;
        }
    }
}
