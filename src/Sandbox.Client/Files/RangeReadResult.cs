namespace Sandbox.Client;

/// <summary>The outcome of <see cref="SandboxInstance.ReadRangeAsync"/> (delta §5.2).</summary>
public sealed record RangeReadResult
{
    /// <summary>The bytes read (empty when <see cref="Unchanged"/>).</summary>
    public byte[] Content { get; init; } = [];

    /// <summary>The file's ETag, if sent.</summary>
    public string? ETag { get; init; }

    /// <summary>The file size, when known (from <c>Content-Range</c> for 206, the body length for 200).</summary>
    public long? TotalBytes { get; init; }

    /// <summary>Offset of <see cref="Content"/> within the file.</summary>
    public long Start { get; init; }

    /// <summary>True for a 206 partial answer; false when the whole file came back (file changed or range ignored:
    /// restart from zero).</summary>
    public bool Partial { get; init; }

    /// <summary>True for 304: the file still matches <see cref="RangeReadOptions.IfNoneMatch"/>.</summary>
    public bool Unchanged { get; init; }

    /// <summary>HTTP-date of the last modification, if sent.</summary>
    public string? LastModified { get; init; }
}
