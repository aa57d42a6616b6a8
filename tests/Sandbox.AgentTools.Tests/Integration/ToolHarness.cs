using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Sandbox.AgentTools.Tests;

/// <summary>Calls a conversation's tools the way a host would and unpacks the results.</summary>
internal sealed class ToolHarness(SandboxLeasePool pool, string conversationId, SandboxToolOptions? options = null) : IAsyncDisposable
{
    private readonly IList<AITool> _tools = SandboxTools.Create(pool, conversationId, options);

    public string ConversationId { get; } = conversationId;

    /// <summary>Ends the conversation: its box is deleted, so the shared pool never runs out.</summary>
    public ValueTask DisposeAsync() => pool.ReleaseConversationAsync(ConversationId);

    public async Task<ToolCall> CallAsync(string tool, object arguments, string? toolCallId = null)
    {
        AIFunction function = _tools.OfType<AIFunction>().Single(t => t.Name == tool);
        Dictionary<string, object?> args = JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(arguments))!;
        var functionArguments = new AIFunctionArguments(args);
        if (toolCallId is not null)
        {
            functionArguments.Context = new Dictionary<object, object?> { [SandboxTools.ToolCallIdKey] = toolCallId };
        }

        object? result = await function.InvokeAsync(functionArguments);
        return result switch
        {
            JsonElement json => new ToolCall(json, []),
            IList<AIContent> contents => new ToolCall(
                JsonDocument.Parse(contents.OfType<TextContent>().Single().Text).RootElement.Clone(),
                contents.OfType<DataContent>().ToList()),
            _ => throw new InvalidOperationException($"Unexpected result type {result?.GetType()}"),
        };
    }
}

internal sealed record ToolCall(JsonElement Json, IReadOnlyList<DataContent> Media)
{
    public string Str(string name) => Json.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    public bool Bool(string name) => Json.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;

    public long Long(string name) => Json.GetProperty(name).GetInt64();

    public override string ToString() => Json.GetRawText();
}
