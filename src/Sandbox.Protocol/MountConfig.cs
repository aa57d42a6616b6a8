namespace Sandbox.Protocol;

/// <summary>Bucket, Git and Context Hub mounts of a sandbox, with the provider credentials they need.</summary>
public sealed record MountConfig
{
    /// <summary>Provider credentials.</summary>
    public MountAuth Auth { get; set; } = new();

    /// <summary>The mounts (at least one).</summary>
    public IReadOnlyList<MountSpec> Mounts { get; set; } = [];
}
