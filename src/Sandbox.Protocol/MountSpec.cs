using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Protocol;

/// <summary>One mount: <c>s3</c>, <c>gcs</c>, <c>git</c> or <c>contexthub</c>.</summary>
public sealed record MountSpec
{
    /// <summary>Stable mount identifier.</summary>
    public string Id { get; set; } = "";

    /// <summary><c>s3</c>, <c>gcs</c>, <c>git</c> or <c>contexthub</c>.</summary>
    public string Type { get; set; } = "";

    /// <summary>Absolute path inside the sandbox.</summary>
    public string MountPath { get; set; } = "";

    /// <summary>Read-only bucket mount.</summary>
    public bool? ReadOnly { get; init; }

    /// <summary>Bucket cache settings (<c>max_size_bytes</c>, <c>writeback_seconds</c>).</summary>
    public JsonElement? Cache { get; init; }

    /// <summary>S3 settings.</summary>
    public JsonElement? S3 { get; init; }

    /// <summary>GCS settings.</summary>
    public JsonElement? Gcs { get; init; }

    /// <summary>Git settings.</summary>
    public JsonElement? Git { get; init; }

    /// <summary>Context Hub settings.</summary>
    public JsonElement? Contexthub { get; init; }

    /// <summary>Fields this version does not model, kept so they round-trip.</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
