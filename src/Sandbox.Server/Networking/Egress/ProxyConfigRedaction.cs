using Sandbox.Protocol;

namespace Sandbox.Server.Networking.Egress;

/// <summary>
/// Makes a <c>proxy_config</c> safe to return: opaque values (header values and AWS/GCP credentials) are replaced by
/// <c>is_set: true</c> without a value; workspace-secret references and plaintext values are kept.
/// </summary>
internal static class ProxyConfigRedaction
{
    public static ProxyConfig? Redact(ProxyConfig? config) => config is null ? null : config with
    {
        Rules = [.. config.Rules.Select(rule => rule with
        {
            Headers = rule.Headers?.Select(h => h.Type == SecretTypes.Opaque ? h with { Value = null, IsSet = h.Value is not null } : h).ToList(),
            Aws = rule.Aws is null ? null : rule.Aws with { AccessKeyId = Redact(rule.Aws.AccessKeyId), SecretAccessKey = Redact(rule.Aws.SecretAccessKey) },
            Gcp = rule.Gcp is null ? null : rule.Gcp with { ServiceAccountJson = Redact(rule.Gcp.ServiceAccountJson) },
        })],
    };

    private static SecretValue? Redact(SecretValue? secret)
        => secret is { Type: SecretTypes.Opaque or SecretTypes.Plaintext } ? secret with { Value = null, IsSet = secret.Value is not null } : secret;
}
