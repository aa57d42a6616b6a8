namespace Sandbox.Protocol;

/// <summary>The lightweight status object of <c>GET /boxes/{name}/status</c>.</summary>
public sealed record SandboxStatusInfo
{
    /// <summary>Lifecycle state; see <see cref="SandboxStatus"/>.</summary>
    public string Status { get; set; } = SandboxStatus.Provisioning;

    /// <summary>Human-readable detail, set when the box failed.</summary>
    public string? StatusMessage { get; init; }
}
