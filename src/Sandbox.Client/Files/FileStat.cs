namespace Sandbox.Client;

/// <summary>Metadata of a file from <c>HEAD {dataplane}/download</c> (delta §5.1).</summary>
/// <param name="SizeBytes">Size from <c>Content-Length</c> (0 when absent or not digits).</param>
/// <param name="ETag">Opaque strong validator, if sent.</param>
/// <param name="LastModified">HTTP-date of the last modification, if sent.</param>
/// <param name="ContentType">Content type, if sent.</param>
public sealed record FileStat(long SizeBytes, string? ETag, string? LastModified, string? ContentType);
