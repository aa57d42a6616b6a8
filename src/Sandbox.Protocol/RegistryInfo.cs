namespace Sandbox.Protocol;

/// <summary>A private image registry (credentials are write-only and never returned).</summary>
public sealed record RegistryInfo
{
    /// <summary>Identifier, passed as <c>registry_id</c> when building snapshots.</summary>
    public string? Id { get; init; }

    /// <summary>Name.</summary>
    public string? Name { get; init; }

    /// <summary>Registry URL.</summary>
    public string? Url { get; init; }

    /// <summary>Creation time.</summary>
    public string? CreatedAt { get; init; }

    /// <summary>Creator.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>Last update time.</summary>
    public string? UpdatedAt { get; init; }

    /// <summary>Last updater.</summary>
    public string? UpdatedBy { get; init; }

    /// <summary><c>DOCKER_CONFIG</c> or <c>AWS_ROLE</c>.</summary>
    public string? AuthType { get; init; }

    /// <summary>IAM role used for <c>AWS_ROLE</c> registries (delta §4.7).</summary>
    public string? AwsRoleArn { get; init; }

    /// <summary>Detected provider: <c>DOCKER_REGISTRY</c>, <c>HARBOR</c>, <c>GHCR</c>, <c>ECR</c>, <c>GAR</c>, <c>DOCKER_HUB</c>.</summary>
    public string? Provider { get; init; }

    /// <summary><c>GLOBAL</c>, <c>SCOPED</c> or <c>NONE</c>.</summary>
    public string? RepositorySearchMode { get; init; }
}
