namespace Sandbox.Protocol;

/// <summary>Envelope of <c>GET /boxes</c>.</summary>
public sealed record SandboxList
{
    /// <summary>The page of sandboxes.</summary>
    public IReadOnlyList<SandboxInfo> Sandboxes { get; set; } = [];

    /// <summary>Echo of the offset used.</summary>
    public int Offset { get; init; }
}
