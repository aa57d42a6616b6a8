using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using Sandbox.AgentTools;
using Sandbox.AgentTools.SemanticKernel;
using SKFunctionCallContent = Microsoft.SemanticKernel.FunctionCallContent;
using SKTextContent = Microsoft.SemanticKernel.TextContent;

namespace CodeInterpreterAgent.Agent;

/// <summary>
/// Semantic Kernel (<c>--framework sk</c>): a <see cref="Kernel"/> with the sandbox plugin and its filter, chat through
/// <see cref="IChatCompletionService"/> with <c>FunctionChoiceBehavior.Auto()</c>. The model (or the offline script) is an
/// <see cref="IChatClient"/> exposed as a chat completion service; Semantic Kernel invokes the functions (the model sees
/// <c>sandbox-run_code</c>, ...), the plugin's filter asks the host before <c>expose_port</c>, and the conversation is the
/// <see cref="ChatHistory"/>.
/// </summary>
internal sealed class KernelConversation
{
    private readonly Kernel _kernel;
    private readonly IChatCompletionService _chat;

    public KernelConversation(IChatClient model, SandboxLeasePool pool, SandboxToolOptions toolOptions, Approvals approvals,
        ToolCallTracker tracker, IToolLoopObserver observer)
    {
        // Semantic Kernel's function invocation over the model; the assistant's text is shown per model call.
        IChatClient client = new ChatClientBuilder(model)
            .UseKernelFunctionInvocation()
            .Use(getResponseFunc: async (messages, options, next, cancellationToken) =>
            {
                ChatResponse response = await next.GetResponseAsync(messages, options, cancellationToken);
                foreach (ChatMessage message in response.Messages.Where(m => !string.IsNullOrWhiteSpace(m.Text)))
                {
                    observer.AssistantText(message.Text);
                }

                return response;
            }, getStreamingResponseFunc: null)
            .UseOpenTelemetry(sourceName: AgentTelemetry.Source.Name)
            .Build();
        // Wrapped so images reach the model as image parts and the calls know the caller's chat history (the conversation).
        _chat = client.AsChatCompletionService().WithToolResultImages();
        var options = new SandboxKernelOptions
        {
            Tools = toolOptions,
            FunctionNameSeparator = "_",   // functions offered through an IChatClient are named sandbox_run_code, ...
        };
        options.ApproveAsync = (request, ct) => approvals.ApproveAsync(options.ModelName(request.FunctionName), request.Arguments, ct);
        _kernel = new Kernel().AddSandboxTools(pool, options);

        // After the plugin's filter (so inside it): sees each call that runs, with its images still in the result.
        _kernel.AutoFunctionInvocationFilters.Add(new TrackingFilter(tracker));
    }

    /// <summary>The conversation: one chat history, hence one box.</summary>
    public ChatHistory History { get; } = new();

    /// <summary>The sandbox conversation id of <see cref="History"/>.</summary>
    public string ConversationId => SandboxKernelExtensions.ConversationIdOf(History);

    /// <summary>Sends one user message; returns the reply, or null when the model stopped with a tool call unanswered.</summary>
    public async Task<string?> TurnAsync(string message, CancellationToken cancellationToken)
    {
        History.AddUserMessage(message);
        var settings = new OpenAIPromptExecutionSettings { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };
        ChatMessageContent reply = await _chat.GetChatMessageContentAsync(History, settings, _kernel, cancellationToken);
        History.Add(reply);
        return reply.Items.OfType<SKFunctionCallContent>().Any() ? null : reply.Content ?? string.Empty;
    }

    /// <summary>Records each sandbox call for the console and the summary, around Semantic Kernel's own invocation.</summary>
    private sealed class TrackingFilter(ToolCallTracker tracker) : IAutoFunctionInvocationFilter
    {
        public async Task OnAutoFunctionInvocationAsync(AutoFunctionInvocationContext context, Func<AutoFunctionInvocationContext, Task> next) =>
            await tracker.TrackAsync(context.ToolCallId ?? context.Function.Name, context.Function.Name, context.Arguments ?? [], async () =>
            {
                await next(context);
                return ToRecordResult(context.Result.GetValue<object>());
            }, context.CancellationToken);

        // A result with images (JSON text + ImageContent) as the same contents the other frameworks record.
        private static object? ToRecordResult(object? value) => value is ChatMessageContent message
            ? message.Items.Select<KernelContent, AIContent?>(item => item switch
            {
                SKTextContent text => new Microsoft.Extensions.AI.TextContent(text.Text),
                ImageContent { Data: { } data } image => new DataContent(data, image.MimeType ?? "image/png"),
                _ => null,
            }).OfType<AIContent>().ToList()
            : value;
    }
}
