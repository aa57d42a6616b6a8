using Sandbox.Protocol;

namespace Sandbox.Server.Runtime;

/// <summary>The persisted metadata of one box (<c>boxes/{id}/box.json</c>). Mutated only under the box's lock.</summary>
internal sealed class BoxRecord
{
    public string Id { get; set; } = "";

    public string Name { get; set; } = "";

    public string SnapshotId { get; set; } = "";

    public string Status { get; set; } = SandboxStatus.Provisioning;

    public string? StatusMessage { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? StoppedAt { get; set; }

    public int IdleTtlSeconds { get; set; }

    public int DeleteAfterStopSeconds { get; set; }

    public int Vcpus { get; set; }

    public long MemBytes { get; set; }

    public long? FsCapacityBytes { get; set; }

    public Dictionary<string, string>? Labels { get; set; }

    public ProxyConfig? ProxyConfig { get; set; }

    public RunConfig? RunConfig { get; set; }

    public AccessDelegation? AccessDelegation { get; set; }

    public bool Persistent { get; set; } = true;

    public List<string> UnenforcedLimits { get; set; } = [];

    /// <summary>A pre-started box not yet handed out: never persisted, never listed.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsSpare { get; set; }
}
