using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Options of <see cref="SandboxClient.CaptureSnapshotAsync"/> (spec §6.11, delta §4.4).</summary>
public sealed record CaptureSnapshotOptions
{
    /// <summary>Tag of a Docker image inside the sandbox to export instead of the root filesystem.</summary>
    public string? DockerImage { get; init; }

    /// <summary>Capacity of the snapshot's filesystem in bytes.</summary>
    public long? FsCapacityBytes { get; init; }

    /// <summary>Run configuration applied over the captured sandbox's.</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>How long to wait for the snapshot to become ready (default 60 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}
