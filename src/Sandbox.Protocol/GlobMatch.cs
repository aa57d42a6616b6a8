namespace Sandbox.Protocol;

/// <summary>One entry found by a glob.</summary>
public sealed record GlobMatch
{
    /// <summary>Absolute path.</summary>
    public string Path { get; set; } = "";

    /// <summary>Whether the entry is a directory.</summary>
    public bool IsDir { get; init; }

    /// <summary>Size in bytes.</summary>
    public long SizeBytes { get; init; }

    /// <summary>Modification time, RFC 3339.</summary>
    public string? ModifiedAt { get; init; }
}
