using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Protocol;

/// <summary>Reads proxy-rule headers in the array form (<c>[{name,type,value}]</c>) or the map form (<c>{"name":"value"}</c>); writes the array form.</summary>
internal sealed class ProxyHeaderListConverter : JsonConverter<IReadOnlyList<ProxyHeader>>
{
    public override IReadOnlyList<ProxyHeader>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            var map = JsonSerializer.Deserialize<Dictionary<string, string>>(ref reader, options) ?? [];
            return [.. map.Select(pair => new ProxyHeader
            {
                Name = pair.Key,
                Type = pair.Value.Contains('{', StringComparison.Ordinal) ? SecretTypes.WorkspaceSecret : SecretTypes.Plaintext,
                Value = pair.Value,
            })];
        }

        return JsonSerializer.Deserialize<List<ProxyHeader>>(ref reader, options);
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<ProxyHeader> value, JsonSerializerOptions options)
        => JsonSerializer.Serialize(writer, value.ToList(), options);
}
