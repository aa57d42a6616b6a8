namespace Sandbox.Protocol;

/// <summary>Response of <c>POST /boxes/{name}/service-url</c>.</summary>
public sealed record ServiceUrlInfo
{
    /// <summary>URL that authenticates through a redirect setting a cookie, then serves the service.</summary>
    public string? BrowserUrl { get; init; }

    /// <summary>Base URL of the service, used with the token header.</summary>
    public string? ServiceUrl { get; init; }

    /// <summary>Signed token for header <c>X-Langsmith-Sandbox-Service-Token</c>.</summary>
    public string? Token { get; init; }

    /// <summary>Token expiry, ISO 8601.</summary>
    public string? ExpiresAt { get; init; }

    /// <summary>Iframe URL (token in the fragment).</summary>
    public string? EmbedUrl { get; init; }

    /// <summary>Normalised echo of the embed origins.</summary>
    public IReadOnlyList<string>? EmbedOrigins { get; init; }

    /// <summary>Echo of the login mode.</summary>
    public string? Access { get; init; }
}
