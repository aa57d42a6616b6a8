using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Sandbox.AgentTools;

/// <summary>The tools' JSON schemas, generated from the argument types with <see cref="AIJsonUtilities"/>.</summary>
internal static class ToolSchemas
{
    private static readonly AIJsonSchemaCreateOptions CreateOptions = new()
    {
        IncludeSchemaKeyword = false,
        TransformOptions = new AIJsonSchemaTransformOptions { DisallowAdditionalProperties = true },
        TransformSchemaNode = static (context, node) =>
        {
            // [DefaultValue] on a property becomes the schema's "default" (what the tool uses when the model omits it).
            if (node is JsonObject property && !property.ContainsKey("default") &&
                context.PropertyAttributeProvider?.GetCustomAttributes(typeof(DefaultValueAttribute), inherit: true) is [DefaultValueAttribute { Value: { } value }, ..])
            {
                property["default"] = value switch
                {
                    string s => JsonValue.Create(s),
                    int i => JsonValue.Create(i),
                    long l => JsonValue.Create(l),
                    double d => JsonValue.Create(d),
                    bool b => JsonValue.Create(b),
                    _ => null,
                };
            }

            return node;
        },
    };

    /// <summary>The schema of <typeparamref name="T"/> with the option-dependent texts and limits filled in.</summary>
    public static string For<T>(SandboxToolOptions options, WorkspacePathPolicy policy, Action<JsonObject>? adjust = null)
    {
        JsonElement schema = AIJsonUtilities.CreateJsonSchema(typeof(T), serializerOptions: ToolJson.Options, inferenceOptions: CreateOptions);
        var node = (JsonObject)JsonNode.Parse(schema.GetRawText())!;
        if (node["properties"] is JsonObject properties)
        {
            foreach ((string _, JsonNode? property) in properties)
            {
                if (property is JsonObject p && p["description"] is JsonValue d && d.TryGetValue(out string? text))
                {
                    p["description"] = text
                        .Replace("{workspace}", policy.Root, StringComparison.Ordinal)
                        .Replace("{default_timeout}", options.DefaultTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                        .Replace("{max_read_bytes}", options.MaxReadBytes.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
                }
            }
        }

        adjust?.Invoke(node);
        return node.ToJsonString();
    }

    /// <summary>Sets a property's <c>maximum</c>.</summary>
    public static void SetMaximum(JsonObject schema, string property, double maximum) =>
        schema["properties"]![property]!["maximum"] = maximum;
}
