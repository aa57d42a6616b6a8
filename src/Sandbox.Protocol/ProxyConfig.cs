using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Protocol;

/// <summary>Egress proxy configuration of a sandbox: header-injection and provider rules, and an allow or deny list.</summary>
public sealed record ProxyConfig
{
    /// <summary>Rules applied to outbound requests.</summary>
    public IReadOnlyList<ProxyRule> Rules { get; set; } = [];

    /// <summary>Deprecated bypass list; ignored by current servers.</summary>
    public IReadOnlyList<string>? NoProxy { get; init; }

    /// <summary>Allow or deny list enforced at the proxy.</summary>
    public AccessControl? AccessControl { get; init; }

    /// <summary>Callback configuration, forwarded verbatim.</summary>
    public JsonElement? Callbacks { get; init; }

    /// <summary>Fields this version does not model, kept so they round-trip.</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
