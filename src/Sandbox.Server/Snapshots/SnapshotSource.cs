namespace Sandbox.Server.Snapshots;

/// <summary>Where a snapshot's root filesystem comes from: a folder or a docker-save / OCI tar archive.</summary>
internal sealed record SnapshotSource(string Path, bool IsArchive);
