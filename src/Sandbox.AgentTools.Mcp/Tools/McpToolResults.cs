using System.Text.Json;
using Microsoft.Extensions.AI;
using ModelContextProtocol.Protocol;

namespace Sandbox.AgentTools.Mcp.Tools;

/// <summary>A sandbox tool's return value as an MCP tool result: the JSON record as text, images as image blocks.</summary>
internal static class McpToolResults
{
    public static CallToolResult From(object? result)
    {
        var blocks = new List<ContentBlock>();
        switch (result)
        {
            case JsonElement json:
                blocks.Add(new TextContentBlock { Text = json.GetRawText() });
                break;
            case string text:
                blocks.Add(new TextContentBlock { Text = text });
                break;
            case IEnumerable<AIContent> contents:
                foreach (AIContent content in contents)
                {
                    switch (content)
                    {
                        case TextContent text:
                            blocks.Add(new TextContentBlock { Text = text.Text });
                            break;
                        case DataContent data when data.HasTopLevelMediaType("image"):
                            blocks.Add(ImageContentBlock.FromBytes(data.Data, data.MediaType));
                            break;
                        case DataContent data:
                            blocks.Add(new TextContentBlock { Text = $"[{data.MediaType} attachment of {data.Data.Length} bytes not shown]" });
                            break;
                    }
                }

                break;
            case null:
                break;
            default:
                blocks.Add(new TextContentBlock { Text = JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions) });
                break;
        }

        return new CallToolResult { Content = blocks, IsError = IsErrorRecord(blocks) };
    }

    /// <summary>An error record: <c>{"error": "...", "error_type": "...", "hint": "..."}</c>.</summary>
    public static CallToolResult Error(string message, string errorType, string hint) =>
        From(JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["error"] = message, ["error_type"] = errorType, ["hint"] = hint }));

    private static bool IsErrorRecord(List<ContentBlock> blocks)
    {
        if (blocks.FirstOrDefault() is not TextContentBlock { Text: { } text } || !text.StartsWith('{'))
        {
            return false;
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.String;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
