using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Sandbox.Protocol;

/// <summary>The JSON settings of the LangSmith Sandbox wire protocol, shared by the client and the local server.</summary>
/// <remarks>
/// Field names are snake_case on the wire. Unset optional values are <see langword="null"/> and are omitted,
/// because the official SDKs never send <c>null</c> for a field the caller did not supply.
/// </remarks>
public static class SandboxJson
{
    /// <summary>Serializer options for every request and response body and every WebSocket frame.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            NumberHandling = JsonNumberHandling.Strict,

            // Protocol shapes use the generated metadata; anything else a caller serializes with these options
            // (the server's own state files, ad-hoc bodies) falls back to reflection with the same settings.
            TypeInfoResolver = JsonTypeInfoResolver.Combine(SandboxJsonContext.Default, new DefaultJsonTypeInfoResolver()),
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
