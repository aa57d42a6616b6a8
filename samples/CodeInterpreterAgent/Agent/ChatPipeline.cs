using System.ClientModel;
using CodeInterpreterAgent.Models;
using Microsoft.Extensions.AI;
using OpenAI;

namespace CodeInterpreterAgent.Agent;

/// <summary>The sample's chat pipeline: Microsoft.Extensions.AI middleware over the model (or over the offline script).</summary>
internal static class ChatPipeline
{
    /// <summary>OpenAI, or any OpenAI-compatible endpoint, as an <see cref="IChatClient"/> (Microsoft.Extensions.AI.OpenAI).</summary>
    public static IChatClient ForModel(ModelSettings model)
    {
        var options = new OpenAIClientOptions();
        if (model.BaseUrl is not null)
        {
            options.Endpoint = model.BaseUrl;
        }

        // Local OpenAI-compatible servers usually accept any key; the SDK insists on a non-empty one.
        var openAIClient = new OpenAIClient(new ApiKeyCredential(model.ApiKey ?? "not-needed"), options);
        return openAIClient.GetChatClient(model.Model).AsIChatClient();
    }

    /// <summary>
    /// Function invocation (each call recorded by <paramref name="tracker"/>), tool-result images moved into a user
    /// message of image parts, the assistant's text shown as it arrives, and a GenAI span per model call.
    /// </summary>
    public static IChatClient Build(IChatClient inner, ToolCallTracker tracker, IToolLoopObserver observer, int maxIterations) =>
        new ChatClientBuilder(inner)
            .UseFunctionInvocation(configure: invoking =>
            {
                invoking.MaximumIterationsPerRequest = maxIterations;
                invoking.FunctionInvoker = tracker.InvokeAsync;
            })
            .UseToolResultImages()
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

    /// <summary>True when the response ends the turn: no tool call left unanswered and no approval pending.</summary>
    public static bool Finished(IEnumerable<ChatMessage> messages) =>
        messages.LastOrDefault() is not { } last
        || !last.Contents.Any(c => c is FunctionCallContent or ToolApprovalRequestContent);
}
