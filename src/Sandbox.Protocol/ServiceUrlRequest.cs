namespace Sandbox.Protocol;

/// <summary>Body of <c>POST /boxes/{name}/service-url</c>.</summary>
public sealed record ServiceUrlRequest
{
    /// <summary>Port inside the sandbox.</summary>
    public int Port { get; init; }

    /// <summary>Token lifetime in seconds (token mode only).</summary>
    public int? ExpiresInSeconds { get; init; }

    /// <summary>Login mode: <c>restricted</c> or <c>workspace</c>; absent for token mode.</summary>
    public string? Access { get; init; }

    /// <summary>Origins allowed to embed the URL in an iframe.</summary>
    public IReadOnlyList<string>? EmbedOrigins { get; init; }
}
