namespace Sandbox.Client;

/// <summary>Options of a service URL (spec §6.9, delta §4.5).</summary>
public sealed record ServiceUrlOptions
{
    /// <summary>Token lifetime, 1 s to 24 h (default 600 s, always sent as the Python SDK does).</summary>
    public TimeSpan ExpiresIn { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>Pages allowed to embed the URL in an iframe; sent only when non-empty.</summary>
    public IReadOnlyList<string>? EmbedOrigins { get; init; }
}
