using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Egress proxy helpers (spec §7.2–7.5, delta §8).</summary>
public static partial class SandboxConfig
{
    /// <summary>An AWS rule with static credentials: the proxy SigV4-signs AWS requests, so the keys never enter the box.</summary>
    /// <param name="accessKeyId">The access key id secret.</param>
    /// <param name="secretAccessKey">The secret access key secret.</param>
    /// <param name="name">Rule name (default <c>aws</c>).</param>
    /// <param name="enabled">Whether the rule is active.</param>
    /// <param name="envVars">Plaintext environment variables set while the rule is enabled (non-empty when given).</param>
    /// <returns>The rule.</returns>
    public static ProxyRule AwsAuth(SecretValue accessKeyId, SecretValue secretAccessKey, string name = "aws", bool enabled = true, IReadOnlyDictionary<string, string>? envVars = null)
    {
        RequireSecret(accessKeyId, nameof(accessKeyId));
        RequireSecret(secretAccessKey, nameof(secretAccessKey));
        return new ProxyRule
        {
            Name = name,
            Type = "aws",
            Enabled = enabled,
            Aws = new Protocol.AwsAuth { AccessKeyId = accessKeyId, SecretAccessKey = secretAccessKey },
            EnvVars = CheckEnvVars(envVars),
        };
    }

    /// <summary>An AWS rule that assumes an IAM role outside the sandbox (delta §8), optionally with session tags.</summary>
    /// <param name="roleArn">The role ARN.</param>
    /// <param name="sessionTags">AWS session tags (non-blank keys and values).</param>
    /// <param name="name">Rule name (default <c>aws</c>).</param>
    /// <param name="enabled">Whether the rule is active.</param>
    /// <param name="envVars">Plaintext environment variables set while the rule is enabled.</param>
    /// <returns>The rule.</returns>
    public static ProxyRule AwsRoleAuth(string roleArn, IReadOnlyDictionary<string, string>? sessionTags = null, string name = "aws", bool enabled = true, IReadOnlyDictionary<string, string>? envVars = null)
    {
        if (string.IsNullOrWhiteSpace(roleArn))
        {
            throw new ArgumentException("role_arn must be a non-empty string", nameof(roleArn));
        }

        if (sessionTags is not null)
        {
            foreach (var (key, value) in sessionTags)
            {
                if (string.IsNullOrWhiteSpace(key) || string.IsNullOrWhiteSpace(value))
                {
                    throw new ArgumentException("session_tags keys and values must be non-empty strings", nameof(sessionTags));
                }
            }
        }

        return new ProxyRule
        {
            Name = name,
            Type = "aws",
            Enabled = enabled,
            Aws = new Protocol.AwsAuth { RoleArn = roleArn, SessionTags = sessionTags is { Count: > 0 } ? sessionTags : null },
            EnvVars = CheckEnvVars(envVars),
        };
    }

    /// <summary>A GCP rule: the proxy injects OAuth bearer tokens for Google APIs.</summary>
    /// <param name="serviceAccountJson">The service-account JSON secret.</param>
    /// <param name="scopes">OAuth scopes (required by <see cref="ProxyConfig"/>; non-empty when given).</param>
    /// <param name="name">Rule name (default <c>gcp</c>).</param>
    /// <param name="enabled">Whether the rule is active.</param>
    /// <param name="envVars">Plaintext environment variables set while the rule is enabled.</param>
    /// <returns>The rule.</returns>
    public static ProxyRule GcpAuth(SecretValue serviceAccountJson, IReadOnlyList<string>? scopes = null, string name = "gcp", bool enabled = true, IReadOnlyDictionary<string, string>? envVars = null)
    {
        RequireSecret(serviceAccountJson, nameof(serviceAccountJson));
        if (scopes is not null && (scopes.Count == 0 || scopes.Any(string.IsNullOrWhiteSpace)))
        {
            throw new ArgumentException("scopes must be a non-empty list of non-empty strings", nameof(scopes));
        }

        return new ProxyRule
        {
            Name = name,
            Type = "gcp",
            Enabled = enabled,
            Gcp = new Protocol.GcpAuth { ServiceAccountJson = serviceAccountJson, Scopes = scopes },
            EnvVars = CheckEnvVars(envVars),
        };
    }

    /// <summary>A header-injection rule: the proxy adds <paramref name="headers"/> to requests for
    /// <paramref name="matchHosts"/> (Gen's array form of <c>headers</c>; the SDKs have no helper for it).</summary>
    /// <param name="name">Rule name.</param>
    /// <param name="matchHosts">Hosts the rule applies to (non-empty).</param>
    /// <param name="headers">Headers to inject; values may reference workspace secrets as <c>{NAME}</c>.</param>
    /// <param name="matchPaths">Optional path filters.</param>
    /// <param name="enabled">Whether the rule is active.</param>
    /// <returns>The rule.</returns>
    public static ProxyRule HeaderRule(string name, IReadOnlyList<string> matchHosts, IReadOnlyList<ProxyHeader> headers, IReadOnlyList<string>? matchPaths = null, bool enabled = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (matchHosts is null || matchHosts.Count == 0 || matchHosts.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("match_hosts must be a non-empty list of non-empty strings", nameof(matchHosts));
        }

        if (headers is null || headers.Count == 0 || headers.Any(h => string.IsNullOrWhiteSpace(h.Name)))
        {
            throw new ArgumentException("headers must be a non-empty list of named headers", nameof(headers));
        }

        return new ProxyRule { Name = name, Type = "headers", Enabled = enabled, MatchHosts = matchHosts, MatchPaths = matchPaths, Headers = headers };
    }

    /// <summary>A header whose value is a workspace-secret reference (<c>Bearer {GITHUB_TOKEN}</c> style templates allowed).</summary>
    /// <param name="name">Header name.</param>
    /// <param name="value">The value template.</param>
    /// <returns>The header.</returns>
    public static ProxyHeader SecretHeader(string name, string value) => new() { Name = name, Type = SecretTypes.WorkspaceSecret, Value = value };

    /// <summary>A header with a write-only literal value.</summary>
    /// <param name="name">Header name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The header.</returns>
    public static ProxyHeader OpaqueHeader(string name, string value) => new() { Name = name, Type = SecretTypes.Opaque, Value = value };

    /// <summary>A header with a plain value.</summary>
    /// <param name="name">Header name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The header.</returns>
    public static ProxyHeader PlaintextHeader(string name, string value) => new() { Name = name, Type = SecretTypes.Plaintext, Value = value };

    /// <summary>Only these destinations are reachable (exact domain, <c>*.glob</c>, IP, CIDR or <c>~regex</c>).</summary>
    /// <param name="patterns">The patterns.</param>
    /// <returns>The access control.</returns>
    public static AccessControl AllowList(params string[] patterns) => new() { AllowList = patterns };

    /// <summary>These destinations are blocked; the rest are reachable.</summary>
    /// <param name="patterns">The patterns.</param>
    /// <returns>The access control.</returns>
    public static AccessControl DenyList(params string[] patterns) => new() { DenyList = patterns };

    /// <summary>
    /// Composes a proxy configuration: <c>{"rules":[…],"no_proxy":[…],"access_control":{…}}</c> (always <c>rules</c>). A
    /// <c>gcp</c> rule without scopes is rejected here. <paramref name="noProxy"/> follows the Python SDK (validated and
    /// emitted; JS 0.12 drops it and the service ignores it).
    /// </summary>
    /// <param name="rules">The rules.</param>
    /// <param name="noProxy">Hosts bypassing the proxy (non-empty list of non-blank strings when given).</param>
    /// <param name="accessControl">Allow or deny list, copied as is.</param>
    /// <returns>The proxy configuration.</returns>
    public static ProxyConfig ProxyConfig(IEnumerable<ProxyRule>? rules = null, IReadOnlyList<string>? noProxy = null, AccessControl? accessControl = null)
    {
        var list = rules?.ToList() ?? [];
        foreach (var rule in list)
        {
            if (string.IsNullOrWhiteSpace(rule.Name))
            {
                throw new ArgumentException("every proxy rule needs a name", nameof(rules));
            }

            if (rule.Type == "gcp" && rule.Gcp?.Scopes is not { Count: > 0 })
            {
                throw new ArgumentException($"gcp proxy rule '{rule.Name}' requires scopes", nameof(rules));
            }
        }

        if (noProxy is not null && (noProxy.Count == 0 || noProxy.Any(string.IsNullOrWhiteSpace)))
        {
            throw new ArgumentException("no_proxy must be a non-empty list of non-empty strings", nameof(noProxy));
        }

        return new ProxyConfig { Rules = list, NoProxy = noProxy, AccessControl = accessControl };
    }

    /// <summary>Rejects AWS/GCP credentials given both in <c>mount_config.auth</c> and as a proxy rule (spec §7.7).</summary>
    internal static void CheckProviderConflict(MountConfig mountConfig, ProxyConfig proxyConfig)
    {
        foreach (var rule in proxyConfig.Rules ?? [])
        {
            if ((rule.Type == "aws" && mountConfig.Auth?.Aws is not null) || (rule.Type == "gcp" && mountConfig.Auth?.Gcp is not null))
            {
                throw new SandboxValidationException(
                    $"{rule.Type} auth cannot be provided in both mount_config and proxy_config", "mount_config");
            }
        }
    }
}
