namespace Sandbox.Protocol;

/// <summary>An allow list or a deny list (only one may be populated) of destination patterns: exact domain, <c>*.glob</c>, IP, CIDR or <c>~regex</c>.</summary>
public sealed record AccessControl
{
    /// <summary>Only these destinations are reachable.</summary>
    public IReadOnlyList<string>? AllowList { get; init; }

    /// <summary>These destinations are blocked; everything else is reachable.</summary>
    public IReadOnlyList<string>? DenyList { get; init; }
}
