using Sandbox.Protocol;
using Sandbox.Server.Snapshots.Registry;

namespace Sandbox.Server.Snapshots;

/// <summary>A validated request for a new snapshot from an image (the API edge checks the fields).</summary>
internal sealed record SnapshotCreateParameters
{
    public required string Name { get; init; }

    /// <summary><c>docker_image</c> as given: a local folder or archive, or an image reference.</summary>
    public required string DockerImage { get; init; }

    /// <summary>The parsed image reference when <see cref="DockerImage"/> names a registry image; null for a local source.</summary>
    public ImageReference? Image { get; init; }

    /// <summary>Id of the stored registry credentials to pull <see cref="Image"/> with (registry images only).</summary>
    public string? RegistryId { get; init; }

    public long FsCapacityBytes { get; init; }

    /// <summary>Layered over the image's own run config.</summary>
    public RunConfig? RunConfig { get; init; }
}
