using Sandbox.Protocol;

namespace Sandbox.Server.Runtime;

/// <summary>A validated change to a box (the API edge checks the fields); null leaves a setting as it is.</summary>
internal sealed record BoxUpdateParameters
{
    public string? Name { get; init; }

    public int? IdleTtlSeconds { get; init; }

    public int? DeleteAfterStopSeconds { get; init; }

    public ProxyConfig? ProxyConfig { get; init; }

    /// <summary>Layered over the box's run config.</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>Applies at the next start (limits are the box's cgroup, made when it starts).</summary>
    public int? Vcpus { get; init; }

    /// <summary>Applies at the next start.</summary>
    public long? MemBytes { get; init; }
}
