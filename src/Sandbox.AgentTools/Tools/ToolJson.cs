using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Sandbox.AgentTools;

/// <summary>Serialization of tool results: snake_case, nulls omitted, readable (non-ASCII and markup characters not escaped).</summary>
internal static class ToolJson
{
    public static JsonSerializerOptions Options { get; } = new(ToolJsonContext.Default.Options)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = ToolJsonContext.Default,
    };

    public static JsonElement ToElement<T>(T value)
    {
        var info = (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
        return JsonSerializer.SerializeToElement(value, info);
    }

    public static string ToText<T>(T value)
    {
        var info = (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
        return JsonSerializer.Serialize(value, info);
    }

    public static JsonElement Schema(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
