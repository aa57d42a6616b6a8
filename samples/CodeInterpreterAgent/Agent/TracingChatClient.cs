using System.Diagnostics;
using Microsoft.Extensions.AI;

namespace CodeInterpreterAgent.Agent;

// Written here because Microsoft.Extensions.AI (OpenTelemetryChatClient) is not available: one GenAI "chat" span per model call.
/// <summary>Wraps a chat client with a <c>chat {model}</c> span following the GenAI semantic conventions.</summary>
internal sealed class TracingChatClient(IChatClient inner, string model) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using Activity? activity = AgentTelemetry.Source.StartActivity($"chat {model}", ActivityKind.Client);
        activity?.SetTag("gen_ai.operation.name", "chat");
        activity?.SetTag("gen_ai.request.model", model);
        activity?.SetTag("langsmith.span.kind", "llm");
        try
        {
            ChatResponse response = await base.GetResponseAsync(messages, options, cancellationToken);
            activity?.SetTag("gen_ai.response.model", response.ModelId ?? model);
            activity?.SetTag("gen_ai.usage.input_tokens", response.Usage?.InputTokenCount);
            activity?.SetTag("gen_ai.usage.output_tokens", response.Usage?.OutputTokenCount);
            return response;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            activity?.SetTag("error.type", ex.GetType().FullName);
            throw;
        }
    }
}
