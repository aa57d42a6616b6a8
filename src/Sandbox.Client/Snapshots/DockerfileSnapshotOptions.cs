namespace Sandbox.Client;

/// <summary>Options of <see cref="SandboxClient.CreateSnapshotFromDockerfileAsync"/> (spec §6.18).</summary>
public sealed record DockerfileSnapshotOptions
{
    /// <summary>The Dockerfile path relative to the context directory (default <c>Dockerfile</c>).</summary>
    public string Dockerfile { get; init; } = "Dockerfile";

    /// <summary>The build stage to stop at.</summary>
    public string? Target { get; init; }

    /// <summary>Build arguments (<c>--build-arg</c>), passed in sorted order.</summary>
    public IReadOnlyDictionary<string, string>? BuildArgs { get; init; }

    /// <summary>Filesystem capacity of the builder and of the snapshot (server default when null).</summary>
    public long? FsCapacityBytes { get; init; }

    /// <summary>vCPUs of the builder sandbox.</summary>
    public int? Vcpus { get; init; }

    /// <summary>Memory of the builder sandbox in bytes.</summary>
    public long? MemBytes { get; init; }

    /// <summary>Readiness wait of the builder and of the snapshot (default 600 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>Deadline of the build command itself (default 3600 s).</summary>
    public TimeSpan BuildTimeout { get; init; } = TimeSpan.FromSeconds(3600);

    /// <summary>Receives the build's output as it streams.</summary>
    public Action<OutputChunk>? OnOutput { get; init; }
}
