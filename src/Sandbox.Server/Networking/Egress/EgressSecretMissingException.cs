namespace Sandbox.Server.Networking.Egress;

/// <summary>A proxy rule references a workspace secret the server does not have.</summary>
internal sealed class EgressSecretMissingException(string rule, string secretName)
    : Exception($"Proxy rule \"{rule}\" references secret \"{secretName}\", which is not configured on the sandbox server (set Secrets:{secretName} or SANDBOX_SECRET_{secretName}).")
{
    public string SecretName { get; } = secretName;
}
