using Sandbox.Protocol;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Snapshots;

/// <summary>The persisted metadata of one snapshot (<c>snapshots/{id}/snapshot.json</c>).</summary>
internal sealed class SnapshotRecord
{
    public string Id { get; set; } = "";

    public string Name { get; set; } = "";

    public string Status { get; set; } = SnapshotStatus.Building;

    public string? StatusMessage { get; set; }

    public string Kind { get; set; } = SnapshotKind.Rootfs;

    /// <summary>For <see cref="SnapshotKind.Rootfs"/>: the base root filesystem folder.</summary>
    public string? RootfsPath { get; set; }

    /// <summary>Captured writable layers, newest first; each has sub-folders per overlay key (root, usr, etc).</summary>
    public List<string> Layers { get; set; } = [];

    public long FsCapacityBytes { get; set; }

    public string? DockerImage { get; set; }

    public string? ImageDigest { get; set; }

    public string? RegistryId { get; set; }

    public string? SourceSandboxId { get; set; }

    public long? FsUsedBytes { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public RunConfig? RunConfig { get; set; }

    public Dictionary<string, string>? Labels { get; set; }

    public SnapshotInfo ToInfo() => new()
    {
        Id = Id,
        Name = Name,
        Status = Status,
        StatusMessage = StatusMessage,
        FsCapacityBytes = FsCapacityBytes,
        DockerImage = DockerImage,
        ImageDigest = ImageDigest,
        RegistryId = RegistryId,
        SourceSandboxId = SourceSandboxId,
        FsUsedBytes = FsUsedBytes,
        CreatedAt = Timestamps.Format(CreatedAt),
        UpdatedAt = Timestamps.Format(UpdatedAt),
        RunConfig = RunConfig,
        Labels = Labels,
        CreatedBy = "local",
    };
}
