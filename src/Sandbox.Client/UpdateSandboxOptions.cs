using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Options of <see cref="SandboxClient.UpdateSandboxAsync"/> (spec §6.4, delta §4.2). Only set values are sent.</summary>
public sealed record UpdateSandboxOptions
{
    /// <summary>The new name.</summary>
    public string? Name { get; init; }

    /// <summary>New idle TTL; zero disables; whole minutes only.</summary>
    public TimeSpan? IdleTtl { get; init; }

    /// <summary>New delete-after-stop delay; zero disables; whole minutes only.</summary>
    public TimeSpan? DeleteAfterStop { get; init; }

    /// <summary>Replacement proxy configuration (rules replace the existing set).</summary>
    public ProxyConfig? ProxyConfig { get; init; }

    /// <summary>Run configuration merged into the stored one.</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>New vCPU count; applied the next time the sandbox starts.</summary>
    public int? Vcpus { get; init; }

    /// <summary>New memory limit in bytes; applied the next time the sandbox starts.</summary>
    public long? MemBytes { get; init; }
}
