using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Options of <see cref="SandboxClient.CreateSnapshotAsync"/> (spec §6.12, delta §4.3).</summary>
public sealed record CreateSnapshotOptions
{
    /// <summary>Private registry whose credentials pull the image.</summary>
    public string? RegistryId { get; init; }

    /// <summary>Overrides of the image's USER/WORKDIR/ENV.</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>How long to wait for the snapshot to become ready (default 60 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
}
