using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// Builders for the nested configuration objects of a sandbox — secrets, egress proxy rules, mounts and access delegation
/// — with the official SDKs' client-side validation (spec §7, delta §3.4 and §8). They return the shared protocol records.
/// </summary>
/// <remarks>Invalid input throws <see cref="ArgumentException"/> (the SDKs raise <c>ValueError</c> / a plain
/// <c>Error</c>), except <see cref="NormalizeAccessDelegation"/>, which throws <see cref="SandboxValidationException"/>
/// with field <c>access_delegation</c> as the JS SDK does.</remarks>
public static partial class SandboxConfig
{
    /// <summary>A reference to a LangSmith workspace secret: <c>{"type":"workspace_secret","value":"{NAME}"}</c>. A bare
    /// name is wrapped in braces; an already-braced one is kept.</summary>
    /// <param name="name">The secret name, e.g. <c>AWS_ACCESS_KEY_ID</c>.</param>
    /// <returns>The secret value object.</returns>
    /// <exception cref="ArgumentException">Blank, <c>{}</c>, or unbalanced braces.</exception>
    public static SecretValue WorkspaceSecret(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("workspace secret name must be a non-empty string", nameof(name));
        }

        var trimmed = name.Trim();
        var opens = trimmed.StartsWith('{');
        var closes = trimmed.EndsWith('}');
        if (opens != closes)
        {
            throw new ArgumentException($"workspace secret reference has unbalanced braces: {trimmed}", nameof(name));
        }

        var inner = opens ? trimmed[1..^1] : trimmed;
        if (string.IsNullOrWhiteSpace(inner) || inner.Contains('{', StringComparison.Ordinal) || inner.Contains('}', StringComparison.Ordinal))
        {
            throw new ArgumentException($"workspace secret reference is invalid: {trimmed}", nameof(name));
        }

        return new SecretValue { Type = SecretTypes.WorkspaceSecret, Value = "{" + inner + "}" };
    }

    /// <summary>A write-only literal secret: <c>{"type":"opaque","value":"…"}</c>. The server stores it and never returns it.</summary>
    /// <param name="value">The secret value.</param>
    /// <returns>The secret value object.</returns>
    /// <exception cref="ArgumentException">Blank value.</exception>
    public static SecretValue OpaqueSecret(string value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException("opaque secret value must be a non-empty string", nameof(value));
        }

        return new SecretValue { Type = SecretTypes.Opaque, Value = value };
    }

    /// <summary>Normalises an access-delegation grant (delta §3.4): <c>INHERIT</c> becomes exactly <c>{"mode":"INHERIT"}</c>;
    /// <c>EXPLICIT</c> needs a non-empty permission list, copied.</summary>
    /// <param name="delegation">The grant.</param>
    /// <returns>The grant as sent on the wire.</returns>
    /// <exception cref="SandboxValidationException">Invalid grant (field <c>access_delegation</c>); nothing is sent.</exception>
    public static AccessDelegation NormalizeAccessDelegation(AccessDelegation delegation)
    {
        ArgumentNullException.ThrowIfNull(delegation);
        switch (delegation.Mode)
        {
            case "INHERIT":
                if (delegation.Permissions is { Count: > 0 })
                {
                    throw new SandboxValidationException("access_delegation.permissions must be empty when mode is INHERIT", "access_delegation");
                }

                return new AccessDelegation { Mode = "INHERIT" };
            case "EXPLICIT":
                if (delegation.Permissions is not { Count: > 0 } permissions)
                {
                    throw new SandboxValidationException("access_delegation.permissions must be a non-empty list when mode is EXPLICIT", "access_delegation");
                }

                return new AccessDelegation { Mode = "EXPLICIT", Permissions = [.. permissions] };
            default:
                throw new SandboxValidationException($"access_delegation.mode must be INHERIT or EXPLICIT, got '{delegation.Mode}'", "access_delegation");
        }
    }

    private static void RequireSecret(SecretValue? secret, string what)
    {
        if (secret is null || (secret.Type != SecretTypes.WorkspaceSecret && secret.Type != SecretTypes.Opaque)
            || string.IsNullOrWhiteSpace(secret.Value))
        {
            throw new ArgumentException($"{what} must be a workspace_secret or opaque secret with a non-empty value", what);
        }
    }

    private static IReadOnlyDictionary<string, string>? CheckEnvVars(IReadOnlyDictionary<string, string>? envVars)
    {
        if (envVars is null)
        {
            return null;
        }

        if (envVars.Count == 0)
        {
            throw new ArgumentException("env_vars must be a non-empty mapping when given", nameof(envVars));
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in envVars)
        {
            if (string.IsNullOrWhiteSpace(key))
            {
                throw new ArgumentException("env_vars names must be non-empty", nameof(envVars));
            }

            if (string.IsNullOrWhiteSpace(value))
            {
                throw new ArgumentException($"env_vars value for '{key.Trim()}' must be non-empty", nameof(envVars));
            }

            result[key.Trim()] = value;
        }

        return result;
    }
}
