using System.Text.Json;
using Microsoft.Extensions.AI;

namespace CodeInterpreterAgent.Agent;

/// <summary>One tool call of the conversation: what was asked, how long it took and what came back.</summary>
internal sealed class ToolCallRecord(int number, string callId, string name, IDictionary<string, object?> arguments)
{
    public int Number { get; } = number;

    public string CallId { get; } = callId;

    public string Name { get; } = name;

    public IDictionary<string, object?> Arguments { get; } = arguments;

    public TimeSpan Duration { get; set; }

    /// <summary>The tool's return value: a JSON element, a list of contents (JSON text + images), or an error string.</summary>
    public object? Result { get; set; }

    /// <summary>The tool threw or does not exist.</summary>
    public bool Failed { get; set; }

    /// <summary>The JSON record the tool returned, when it returned one.</summary>
    public JsonElement? Json => Result switch
    {
        JsonElement element => element,
        IEnumerable<AIContent> contents when contents.OfType<TextContent>().FirstOrDefault() is { } text => TryParse(text.Text),
        string s => TryParse(s),
        _ => null,
    };

    /// <summary>Images the tool returned (plots).</summary>
    public IReadOnlyList<DataContent> Images => Result is IEnumerable<AIContent> contents
        ? contents.OfType<DataContent>().Where(d => d.HasTopLevelMediaType("image")).ToList()
        : [];

    /// <summary>The tool reported an error record (<c>{"error": ...}</c>) or a run that did not finish cleanly.</summary>
    public bool IsError => Failed || (Json is { ValueKind: JsonValueKind.Object } json
        && (json.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.String
            || json.TryGetProperty("status", out JsonElement status) && status.GetString() is not "ok"));

    /// <summary>A string argument, or null.</summary>
    public string? GetArgument(string name) => Arguments.TryGetValue(name, out object? value) ? value switch
    {
        null => null,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
        JsonElement e => e.GetRawText(),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
    } : null;

    /// <summary>A string property of the result record, or null.</summary>
    public string? GetResultString(string name) =>
        Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty(name, out JsonElement value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;

    private static JsonElement? TryParse(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
