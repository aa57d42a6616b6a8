using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Sandbox.AgentTools;

/// <summary>
/// A tool's answer: the JSON record for the model, plus media (images) when there are any. Returned to the host as a
/// <see cref="JsonElement"/>, or as a list of <see cref="AIContent"/> (a <see cref="TextContent"/> with the JSON, then
/// <see cref="DataContent"/> items) when media are attached.
/// </summary>
internal sealed record ToolOutput(string Json, IReadOnlyList<DataContent> Media, bool IsError)
{
    public static ToolOutput From<T>(T record, IReadOnlyList<DataContent>? media = null) => new(ToolJson.ToText(record), media ?? [], IsError: false);

    public static ToolOutput Error(string message, string errorType, string? hint) =>
        new(ToolJson.ToText(new ToolError(message, errorType, hint)), [], IsError: true);

    /// <summary>Adds a sentence to the record's <c>note</c>.</summary>
    public ToolOutput WithNote(string sentence)
    {
        if (System.Text.Json.Nodes.JsonNode.Parse(Json) is not System.Text.Json.Nodes.JsonObject record)
        {
            return this;
        }

        record["note"] = record["note"] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue(out string? note) ? note + " " + sentence : sentence;
        return this with { Json = record.ToJsonString(ToolJson.Options) };
    }

    /// <summary>Uses the model-visible tool names in the record's prose.</summary>
    public ToolOutput WithNaming(ToolNaming naming) => naming.IsPlain ? this : this with { Json = naming.ApplyToRecord(Json) };

    public object ToResult()
    {
        if (Media.Count == 0)
        {
            using var doc = JsonDocument.Parse(Json);
            return doc.RootElement.Clone();
        }

        var contents = new List<AIContent>(Media.Count + 1) { new TextContent(Json) };
        contents.AddRange(Media);
        return contents;
    }
}
