namespace Sandbox.Client.Protocol;

/// <summary>Envelope of <c>GET /snapshots</c>.</summary>
public sealed record SnapshotList
{
    /// <summary>The page of snapshots.</summary>
    public IReadOnlyList<SnapshotInfo> Snapshots { get; init; } = [];

    /// <summary>Echo of the offset used.</summary>
    public int Offset { get; init; }
}
