using Microsoft.Extensions.AI;
using Sandbox.AgentTools;

namespace CodeInterpreterAgent.Agent;

// Written here because Microsoft.Extensions.AI (FunctionInvokingChatClient) is not available: a small, bounded tool-invocation loop.
/// <summary>
/// Calls the model, invokes the AIFunctions it asks for, appends their results and calls the model again, until the
/// model answers without tool calls or <see cref="MaxIterations"/> model calls were made.
/// </summary>
internal sealed class ToolLoop
{
    private readonly IChatClient _chat;
    private readonly IReadOnlyList<AITool> _tools;
    private readonly IToolLoopObserver _observer;
    private readonly TimeProvider _time;

    public ToolLoop(IChatClient chat, IReadOnlyList<AITool> tools, IToolLoopObserver observer, TimeProvider? time = null)
    {
        _chat = chat;
        _tools = tools;
        _observer = observer;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Upper bound on model calls per user turn.</summary>
    public int MaxIterations { get; init; } = 16;

    /// <summary>Every tool call made so far, in order.</summary>
    public List<ToolCallRecord> Calls { get; } = [];

    /// <summary>Runs one user turn: <paramref name="history"/> gets the assistant and tool messages appended.</summary>
    /// <returns>The model's final answer, or null when the iteration bound was hit.</returns>
    public async Task<string?> RunTurnAsync(List<ChatMessage> history, CancellationToken cancellationToken)
    {
        var options = new ChatOptions { Tools = [.. _tools], ToolMode = ChatToolMode.Auto };
        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            ChatResponse response = await _chat.GetResponseAsync(history, options, cancellationToken);
            history.AddRange(response.Messages);

            var calls = new List<FunctionCallContent>();
            foreach (ChatMessage message in response.Messages)
            {
                if (!string.IsNullOrWhiteSpace(message.Text))
                {
                    _observer.AssistantText(message.Text);
                }

                calls.AddRange(message.Contents.OfType<FunctionCallContent>());
            }

            if (calls.Count == 0)
            {
                return response.Text;
            }

            var results = new List<AIContent>(calls.Count);
            foreach (FunctionCallContent call in calls)
            {
                results.Add(await InvokeAsync(call, cancellationToken));
            }

            history.Add(new ChatMessage(ChatRole.Tool, results));
        }

        _observer.AssistantText($"(stopped after {MaxIterations} model calls without a final answer)");
        return null;
    }

    private async Task<FunctionResultContent> InvokeAsync(FunctionCallContent call, CancellationToken cancellationToken)
    {
        AIFunction? function = _tools.OfType<AIFunction>().FirstOrDefault(t => t.Name == call.Name);
        var record = new ToolCallRecord(Calls.Count + 1, call.CallId, call.Name, call.Arguments ?? new Dictionary<string, object?>());
        Calls.Add(record);
        _observer.ToolStarting(record);
        long started = _time.GetTimestamp();
        object? result;
        if (function is null)
        {
            result = $"Error: there is no tool named '{call.Name}'. Available tools: {string.Join(", ", _tools.Select(t => t.Name))}.";
            record.Failed = true;
        }
        else
        {
            var arguments = new AIFunctionArguments(call.Arguments)
            {
                Context = new Dictionary<object, object?> { [SandboxTools.ToolCallIdKey] = call.CallId },
            };
            try
            {
                result = await function.InvokeAsync(arguments, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A tool that throws is reported to the model as a value, so the conversation can go on.
                result = $"Error: the tool '{call.Name}' failed: {ex.Message}";
                record.Failed = true;
            }
        }

        record.Duration = _time.GetElapsedTime(started);
        record.Result = result;
        _observer.ToolFinished(record);
        return new FunctionResultContent(call.CallId, result);
    }
}
