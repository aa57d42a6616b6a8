using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Sandbox.AgentTools;

/// <summary>
/// The names the model sees. Under a Semantic Kernel plugin the connector exposes <c>{plugin}-{function}</c>, so descriptions,
/// hints and notes that point the model at another tool must use that name too.
/// </summary>
internal sealed partial class ToolNaming
{
    public static ToolNaming Plain { get; } = new(string.Empty);

    public ToolNaming(string prefix) => Prefix = prefix;

    /// <summary>What goes before a tool's own name (<c>sandbox-</c> under SK's default plugin name; empty otherwise).</summary>
    public string Prefix { get; }

    public bool IsPlain => Prefix.Length == 0;

    /// <summary>The model-visible name of one of the five tools.</summary>
    public string Of(string toolName) => Prefix + toolName;

    /// <summary>Rewrites mentions of the tools in prose (descriptions, hints, notes).</summary>
    public string Apply(string text) => IsPlain ? text : ToolNameRegex().Replace(text, m => Prefix + m.Value);

    /// <summary>Rewrites the prose fields (<c>note</c>, <c>hint</c>, <c>error</c>) of a result record; the rest (stdout, file content) is left alone.</summary>
    public string ApplyToRecord(string json)
    {
        if (IsPlain || !ToolNameRegex().IsMatch(json))
        {
            return json;
        }

        JsonNode? node = JsonNode.Parse(json);
        if (node is not JsonObject record)
        {
            return json;
        }

        foreach (string field in (ReadOnlySpan<string>)["note", "hint", "error"])
        {
            if (record[field] is JsonValue value && value.TryGetValue(out string? text))
            {
                record[field] = Apply(text);
            }
        }

        return record.ToJsonString(ToolJson.Options);
    }

    /// <summary>Rewrites the description strings of a JSON schema.</summary>
    public JsonElement ApplyToSchema(JsonElement schema)
    {
        if (IsPlain)
        {
            return schema;
        }

        JsonNode node = JsonNode.Parse(schema.GetRawText())!;
        Rewrite(node);
        return JsonSerializer.SerializeToElement(node, ToolJsonContext.Default.JsonNode);

        void Rewrite(JsonNode? current)
        {
            switch (current)
            {
                case JsonObject obj:
                    foreach ((string key, JsonNode? child) in obj.ToList())
                    {
                        if (key == "description" && child is JsonValue v && v.TryGetValue(out string? text))
                        {
                            obj[key] = Apply(text);
                        }
                        else
                        {
                            Rewrite(child);
                        }
                    }

                    break;
                case JsonArray array:
                    foreach (JsonNode? child in array)
                    {
                        Rewrite(child);
                    }

                    break;
            }
        }
    }

    [GeneratedRegex(@"(?<![\w-])(run_code|write_file|read_file|list_files|expose_port)\b")]
    private static partial Regex ToolNameRegex();
}
