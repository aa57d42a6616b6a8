namespace Sandbox.AgentTools;

/// <summary>Recognizes images (returned as <c>DataContent</c>) and common binary formats (described, never dumped).</summary>
internal static class MediaTypes
{
    public static string? FromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".webp" => "image/webp",
        ".svg" => "image/svg+xml",
        _ => null,
    };

    /// <summary>The media type from the first bytes, or null when unknown.</summary>
    public static string? FromContent(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return "image/png";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "image/jpeg";
        }

        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return "image/gif";
        }

        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return "image/webp";
        }

        if (head.StartsWith("%PDF"u8))
        {
            return "application/pdf";
        }

        if (head.StartsWith("PK\x03\x04"u8))
        {
            return "application/zip";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]))
        {
            return "application/gzip";
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x7F, 0x45, 0x4C, 0x46]))
        {
            return "application/x-elf";
        }

        if (head.StartsWith("SQLite format 3\0"u8))
        {
            return "application/vnd.sqlite3";
        }

        return null;
    }

    public static bool IsImage(string? mediaType) => mediaType is not null && mediaType.StartsWith("image/", StringComparison.Ordinal);
}
