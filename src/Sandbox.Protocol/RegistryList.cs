namespace Sandbox.Protocol;

/// <summary>Envelope of <c>GET /api/v2/sandboxes/registries</c>.</summary>
public sealed record RegistryList
{
    /// <summary>The page of registries.</summary>
    public IReadOnlyList<RegistryInfo> Registries { get; set; } = [];

    /// <summary>Echo of the offset used.</summary>
    public int Offset { get; init; }
}
