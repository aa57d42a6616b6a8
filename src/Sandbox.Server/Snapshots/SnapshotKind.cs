namespace Sandbox.Server.Snapshots;

/// <summary>What a snapshot's read-only base is.</summary>
internal static class SnapshotKind
{
    /// <summary>The host's system directories (/usr, /etc) under a skeleton root.</summary>
    public const string Host = "host";

    /// <summary>A root filesystem folder (from a directory, a docker save or OCI archive, or a capture).</summary>
    public const string Rootfs = "rootfs";
}
