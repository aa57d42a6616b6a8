namespace Sandbox.Protocol;

/// <summary>Body of <c>PATCH /boxes/{name}</c>. Omitted fields stay unchanged; <c>{}</c> is a no-op.</summary>
public sealed record UpdateSandboxRequest
{
    /// <summary>New name.</summary>
    public string? Name { get; init; }

    /// <summary>Idle time before an automatic stop, in seconds (multiple of 60; 0 disables).</summary>
    public int? IdleTtlSeconds { get; init; }

    /// <summary>Delay between stop and deletion, in seconds (multiple of 60; 0 disables).</summary>
    public int? DeleteAfterStopSeconds { get; init; }

    /// <summary>Replacement proxy configuration.</summary>
    public ProxyConfig? ProxyConfig { get; init; }

    /// <summary>Run configuration merged into the stored one.</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>New vCPU count; takes effect the next time the sandbox starts (the CLI guide's <c>update --vcpus</c>).</summary>
    public int? Vcpus { get; init; }

    /// <summary>New memory limit in bytes; takes effect the next time the sandbox starts.</summary>
    public long? MemBytes { get; init; }
}
