namespace Sandbox.Client;

/// <summary>Options of a download link (spec §6.10). Only set values are sent.</summary>
public sealed record DownloadUrlOptions
{
    /// <summary>Link lifetime (at least 1 s); null = a link that never expires.</summary>
    public TimeSpan? ExpiresIn { get; init; }

    /// <summary>Content type to serve the file with.</summary>
    public string? ContentType { get; init; }

    /// <summary><c>attachment</c> or <c>inline</c>.</summary>
    public string? ContentDisposition { get; init; }
}
