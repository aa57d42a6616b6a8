namespace Sandbox.Protocol;

/// <summary>A snapshot: the root filesystem sandboxes boot from.</summary>
public sealed record SnapshotInfo
{
    /// <summary>Primary key.</summary>
    public string Id { get; set; } = "";

    /// <summary>Name (not necessarily unique).</summary>
    public string Name { get; set; } = "";

    /// <summary><c>building</c>, <c>ready</c> or <c>failed</c>; see <see cref="SnapshotStatus"/>.</summary>
    public string Status { get; set; } = SnapshotStatus.Building;

    /// <summary>Filesystem capacity of boxes booted from it, in bytes.</summary>
    public long FsCapacityBytes { get; init; }

    /// <summary>The source image, for snapshots built from an image.</summary>
    public string? DockerImage { get; init; }

    /// <summary>The image digest after pull.</summary>
    public string? ImageDigest { get; init; }

    /// <summary>The box a captured snapshot came from.</summary>
    public string? SourceSandboxId { get; init; }

    /// <summary>Failure detail.</summary>
    public string? StatusMessage { get; init; }

    /// <summary>Bytes used by the snapshot's filesystem.</summary>
    public long? FsUsedBytes { get; init; }

    /// <summary>Creator.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>Registry holding the credentials used to pull the image.</summary>
    public string? RegistryId { get; init; }

    /// <summary>Creation time, ISO 8601.</summary>
    public string? CreatedAt { get; init; }

    /// <summary>Last update time, ISO 8601.</summary>
    public string? UpdatedAt { get; init; }

    /// <summary>Labels.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>Tags resolving to this snapshot under its name.</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>What boxes booted from this snapshot run with.</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>Size of captured memory, when the snapshot can warm-restore.</summary>
    public long? MemorySnapshotSizeBytes { get; init; }
}
