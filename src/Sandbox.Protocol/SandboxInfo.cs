using System.Text.Json.Serialization;

namespace Sandbox.Protocol;

/// <summary>A sandbox as the control plane describes it (<c>POST/GET/PATCH /boxes</c>, elements of <c>GET /boxes</c>).</summary>
public sealed record SandboxInfo
{
    /// <summary>Stable identifier (UUID); constant across renames.</summary>
    public string? Id { get; init; }

    /// <summary>Unique name; the path key of every box endpoint.</summary>
    public string Name { get; set; } = "";

    /// <summary>Base URL of the data plane (execute, files, tunnel). Never ends in <c>/</c>.</summary>
    public string? DataplaneUrl { get; init; }

    /// <summary>Lifecycle state; see <see cref="SandboxStatus"/>.</summary>
    public string? Status { get; init; }

    /// <summary>Human-readable detail, set when the box failed or a limit is not enforced.</summary>
    public string? StatusMessage { get; init; }

    /// <summary>Creation time, ISO 8601.</summary>
    public string? CreatedAt { get; init; }

    /// <summary>Last update time, ISO 8601.</summary>
    public string? UpdatedAt { get; init; }

    /// <summary>Idle time before an automatic stop, in seconds; 0 disables it.</summary>
    public int? IdleTtlSeconds { get; init; }

    /// <summary>Delay between stop and permanent deletion, in seconds; 0 disables it.</summary>
    public int? DeleteAfterStopSeconds { get; init; }

    /// <summary>When the box entered the stopped state, ISO 8601.</summary>
    public string? StoppedAt { get; init; }

    /// <summary>The snapshot the box booted from.</summary>
    public string? SnapshotId { get; init; }

    /// <summary>Virtual CPUs.</summary>
    public int? Vcpus { get; init; }

    /// <summary>Memory limit in bytes.</summary>
    public long? MemBytes { get; init; }

    /// <summary>Root filesystem capacity in bytes.</summary>
    public long? FsCapacityBytes { get; init; }

    /// <summary>CPU in thousandths of a core, when the server reports it.</summary>
    public int? CpuMillicores { get; init; }

    /// <summary>Labels, including those inherited from the snapshot.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>Egress proxy configuration (secret values redacted by the server).</summary>
    public ProxyConfig? ProxyConfig { get; init; }

    /// <summary>Mount configuration (secret values redacted by the server).</summary>
    public MountConfig? MountConfig { get; init; }

    /// <summary>What the box's commands run with (user, working directory, environment).</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>LangSmith access granted to code in the box, if any.</summary>
    public AccessDelegation? AccessDelegation { get; init; }

    /// <summary>Whether a voluntary stop suspends memory.</summary>
    public bool? PreserveMemoryOnStop { get; init; }

    /// <summary>Whether filesystem writes survive a stop.</summary>
    public bool? Persistent { get; init; }

    /// <summary>Resource limits the serving runtime could not enforce (local server extension; absent on the hosted service).</summary>
    [JsonPropertyName("unenforced_limits")]
    public IReadOnlyList<string>? UnenforcedLimits { get; init; }
}
