using System.Net;
using System.Text.RegularExpressions;
using Sandbox.Protocol;

namespace Sandbox.Server.Networking.Egress;

/// <summary>
/// A box's compiled <c>proxy_config</c>: the allow or deny list (base §7.5) and the header-injection rules (§7.3) with
/// their <c>match_hosts</c> / <c>match_paths</c>. A header rule without <c>match_hosts</c> applies to every host the
/// access list lets through; one without <c>match_paths</c> to every path.
/// </summary>
internal sealed partial class EgressPolicy
{
    private readonly IReadOnlyList<HostPattern>? _allow;
    private readonly IReadOnlyList<HostPattern>? _deny;
    private readonly IReadOnlyList<HeaderRule> _rules;

    private EgressPolicy(IReadOnlyList<HostPattern>? allow, IReadOnlyList<HostPattern>? deny, IReadOnlyList<HeaderRule> rules)
    {
        _allow = allow;
        _deny = deny;
        _rules = rules;
    }

    /// <summary>Compiles a configuration; throws <see cref="FormatException"/> naming the bad field.</summary>
    public static EgressPolicy Compile(ProxyConfig config)
    {
        var access = config.AccessControl;
        if (access?.AllowList is { Count: > 0 } && access.DenyList is { Count: > 0 })
        {
            throw new FormatException("proxy_config.access_control: only one of allow_list and deny_list may be set.");
        }

        var allow = access?.AllowList is { Count: > 0 } a ? a.Select(HostPattern.Parse).ToList() : null;
        var deny = access?.DenyList is { Count: > 0 } d ? d.Select(HostPattern.Parse).ToList() : null;
        var rules = new List<HeaderRule>();
        foreach (var rule in config.Rules)
        {
            if (rule.Enabled == false || rule.Headers is not { Count: > 0 } headers)
            {
                continue;
            }

            foreach (var header in headers)
            {
                if (string.IsNullOrWhiteSpace(header.Name) || header.Name.Any(c => c <= ' ' || c == ':' || c > '~'))
                {
                    throw new FormatException($"proxy_config.rules[{rule.Name}].headers: invalid header name '{header.Name}'.");
                }
            }

            rules.Add(new HeaderRule(
                rule.Name,
                rule.MatchHosts?.Select(HostPattern.Parse).ToList(),
                rule.MatchPaths,
                headers));
        }

        return new EgressPolicy(allow, deny, rules);
    }

    /// <summary>Checks a destination against the allow or deny list.</summary>
    public EgressDecision CheckAccess(string host, IPAddress? address)
    {
        if (_allow is not null)
        {
            return _allow.FirstOrDefault(p => p.Matches(host, address)) is { } match
                ? EgressDecision.Allow(match.Text)
                : EgressDecision.Block($"host \"{host}\" is not in the allow_list");
        }

        if (_deny?.FirstOrDefault(p => p.Matches(host, address)) is { } denied)
        {
            return EgressDecision.Block($"host \"{host}\" matches deny_list rule \"{denied.Text}\"");
        }

        return EgressDecision.Allow(null);
    }

    /// <summary>
    /// The headers to inject for a request, with secrets resolved. Throws <see cref="EgressSecretMissingException"/>
    /// when a referenced secret is not configured on the server.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> HeadersFor(string host, IPAddress? address, string path, EgressSecrets secrets)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var rule in _rules)
        {
            if (rule.Hosts is not null && !rule.Hosts.Any(p => p.Matches(host, address)))
            {
                continue;
            }

            if (rule.Paths is { Count: > 0 } && !rule.Paths.Any(p => PathMatches(p, path)))
            {
                continue;
            }

            foreach (var header in rule.Headers)
            {
                result.Add(new(header.Name, Resolve(rule.Name, header, secrets)));
            }
        }

        return result;
    }

    private static string Resolve(string rule, ProxyHeader header, EgressSecrets secrets)
    {
        var value = header.Value ?? "";
        if (header.Type != SecretTypes.WorkspaceSecret)
        {
            return value;
        }

        return SecretReference().Replace(value, m => secrets.Find(m.Groups[1].Value)
            ?? throw new EgressSecretMissingException(rule, m.Groups[1].Value));
    }

    private static bool PathMatches(string pattern, string path)
    {
        var onlyPath = path.Split('?', 2)[0];
        if (pattern.Contains('*', StringComparison.Ordinal))
        {
            var regex = "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$";
            return Regex.IsMatch(onlyPath, regex, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }

        return onlyPath.StartsWith(pattern, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_\-\.]*)\}")]
    private static partial Regex SecretReference();

    private sealed record HeaderRule(string Name, IReadOnlyList<HostPattern>? Hosts, IReadOnlyList<string>? Paths, IReadOnlyList<ProxyHeader> Headers);
}
