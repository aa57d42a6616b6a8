namespace Sandbox.Protocol;

/// <summary>Body of <c>POST /snapshots</c>: build a snapshot from an image.</summary>
public sealed record CreateSnapshotRequest
{
    /// <summary>Snapshot name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Image reference (on the local server: a local rootfs folder, a <c>docker save</c>/OCI archive, or a tag it can resolve locally).</summary>
    public string DockerImage { get; set; } = "";

    /// <summary>Filesystem capacity in bytes.</summary>
    public long FsCapacityBytes { get; init; }

    /// <summary>Private registry holding the pull credentials.</summary>
    public string? RegistryId { get; init; }

    /// <summary>Run configuration override.</summary>
    public RunConfig? RunConfig { get; init; }
}
