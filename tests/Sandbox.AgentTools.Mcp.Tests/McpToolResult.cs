using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace Sandbox.AgentTools.Mcp.Tests;

/// <summary>Reads what the tests look at in a tool result: the JSON record (first text block) and the images.</summary>
internal static class McpToolResult
{
    public static JsonElement Record(CallToolResult result)
    {
        TextContentBlock text = Assert.IsType<TextContentBlock>(result.Content[0]);
        using var doc = JsonDocument.Parse(text.Text);
        return doc.RootElement.Clone();
    }

    public static string Stdout(CallToolResult result) => Record(result).GetProperty("stdout").GetString() ?? "";

    public static Dictionary<string, object?> Args(params (string Name, object? Value)[] arguments) =>
        arguments.ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal);
}
