namespace Sandbox.Protocol;

/// <summary>Body of <c>POST /boxes/{name}/download-url</c>.</summary>
public sealed record DownloadUrlRequest
{
    /// <summary>File path inside the sandbox.</summary>
    public string Path { get; set; } = "";

    /// <summary>Link lifetime in seconds; omitted for a link that never expires.</summary>
    public int? ExpiresInSeconds { get; init; }

    /// <summary>Content type to serve the file as.</summary>
    public string? ContentType { get; init; }

    /// <summary><c>attachment</c> or <c>inline</c>.</summary>
    public string? ContentDisposition { get; init; }
}
