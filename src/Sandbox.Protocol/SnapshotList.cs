namespace Sandbox.Protocol;

/// <summary>Envelope of <c>GET /snapshots</c>.</summary>
public sealed record SnapshotList
{
    /// <summary>The page of snapshots.</summary>
    public IReadOnlyList<SnapshotInfo> Snapshots { get; set; } = [];

    /// <summary>Echo of the offset used.</summary>
    public int Offset { get; init; }
}
