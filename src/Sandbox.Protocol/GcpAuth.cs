namespace Sandbox.Protocol;

/// <summary>GCP service-account credentials for a proxy rule or a mount.</summary>
public sealed record GcpAuth
{
    /// <summary>The service account JSON.</summary>
    public SecretValue? ServiceAccountJson { get; init; }

    /// <summary>OAuth scopes (required in proxy rules, absent in mount auth).</summary>
    public IReadOnlyList<string>? Scopes { get; init; }
}
