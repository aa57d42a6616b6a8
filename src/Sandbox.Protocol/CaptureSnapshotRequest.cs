namespace Sandbox.Protocol;

/// <summary>Body of <c>POST /boxes/{name}/snapshot</c>.</summary>
public sealed record CaptureSnapshotRequest
{
    /// <summary>Name of the new snapshot.</summary>
    public string Name { get; set; } = "";

    /// <summary>Export this image from inside the box instead of its root filesystem.</summary>
    public string? DockerImage { get; init; }

    /// <summary>Capacity of the new snapshot.</summary>
    public long? FsCapacityBytes { get; init; }

    /// <summary>Run configuration override.</summary>
    public RunConfig? RunConfig { get; init; }
}
