namespace Sandbox.Protocol;

/// <summary>Provider credentials of a <see cref="MountConfig"/>.</summary>
public sealed record MountAuth
{
    /// <summary>AWS credentials (required by S3 mounts unless an enabled AWS proxy rule exists).</summary>
    public AwsAuth? Aws { get; init; }

    /// <summary>GCP credentials (required by GCS mounts).</summary>
    public GcpAuth? Gcp { get; init; }
}
