using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Protocol;

/// <summary>One proxy rule: AWS or GCP provider auth, or header injection for matching hosts.</summary>
public sealed record ProxyRule
{
    /// <summary>Rule name (required).</summary>
    public string Name { get; set; } = "";

    /// <summary><c>aws</c>, <c>gcp</c>, or a header-injection type such as <c>headers</c>.</summary>
    public string? Type { get; init; }

    /// <summary>Whether the rule applies.</summary>
    public bool? Enabled { get; init; }

    /// <summary>AWS credentials (SigV4 signing).</summary>
    public AwsAuth? Aws { get; init; }

    /// <summary>GCP service account (OAuth bearer injection).</summary>
    public GcpAuth? Gcp { get; init; }

    /// <summary>Headers injected into matching requests. Accepts both the array form and the name→value map form.</summary>
    [JsonConverter(typeof(ProxyHeaderListConverter))]
    public IReadOnlyList<ProxyHeader>? Headers { get; init; }

    /// <summary>Hosts the rule applies to (exact, <c>*.glob</c>, IP, CIDR or <c>~regex</c>).</summary>
    public IReadOnlyList<string>? MatchHosts { get; init; }

    /// <summary>Path prefixes the rule applies to.</summary>
    public IReadOnlyList<string>? MatchPaths { get; init; }

    /// <summary>Plaintext environment variables set for every command while the rule is enabled.</summary>
    public IReadOnlyDictionary<string, string>? EnvVars { get; init; }

    /// <summary>Fields this version does not model, kept so they round-trip.</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? AdditionalProperties { get; set; }
}
