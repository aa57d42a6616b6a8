using System.Text.Json.Serialization;

namespace Sandbox.Protocol;

/// <summary>Response of <c>POST /boxes/{name}/download-url</c>.</summary>
public sealed record DownloadUrlInfo
{
    /// <summary>Full URL embedding the token; fetchable without credentials.</summary>
    public string DownloadUrl { get; set; } = "";

    /// <summary>The token.</summary>
    public string Token { get; set; } = "";

    /// <summary>Expiry, ISO 8601; <see langword="null"/> means the link never expires (sent as JSON null).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? ExpiresAt { get; init; }
}
