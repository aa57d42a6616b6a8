namespace Sandbox.Protocol;

/// <summary>AWS credentials for a proxy rule or a mount: static keys, or an IAM role.</summary>
public sealed record AwsAuth
{
    /// <summary>Access key id.</summary>
    public SecretValue? AccessKeyId { get; init; }

    /// <summary>Secret access key.</summary>
    public SecretValue? SecretAccessKey { get; init; }

    /// <summary>IAM role to assume instead of static keys.</summary>
    public string? RoleArn { get; init; }

    /// <summary>Session tags for the assumed role.</summary>
    public IReadOnlyDictionary<string, string>? SessionTags { get; init; }
}
