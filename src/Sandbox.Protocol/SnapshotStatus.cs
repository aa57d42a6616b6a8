namespace Sandbox.Protocol;

/// <summary>The states a snapshot reports.</summary>
public static class SnapshotStatus
{
    /// <summary>Being built or captured.</summary>
    public const string Building = "building";

    /// <summary>Usable by new sandboxes.</summary>
    public const string Ready = "ready";

    /// <summary>The build failed; see the status message.</summary>
    public const string Failed = "failed";
}
