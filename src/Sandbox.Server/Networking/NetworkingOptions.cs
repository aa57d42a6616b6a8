namespace Sandbox.Server.Networking;

/// <summary>Settings of service URLs, download links, tunnels and the egress proxy (configuration section <c>Networking</c>).</summary>
internal sealed class NetworkingOptions
{
    /// <summary>Configuration section name.</summary>
    public const string SectionName = "Networking";

    /// <summary>
    /// Host suffix of service URLs: <c>{box}--{port}.{suffix}:{server port}</c>. <c>localhost</c> works without DNS
    /// setup because browsers (and most resolvers) map <c>*.localhost</c> to loopback.
    /// </summary>
    public string ServiceHostSuffix { get; set; } = "localhost";

    /// <summary>
    /// Form of minted <c>browser_url</c>/<c>embed_url</c>: the subdomain form <c>http://{box}--{port}.localhost:{server port}/</c>
    /// by default (browsers resolve <c>*.localhost</c> to loopback, and absolute links of multi-page apps keep working);
    /// <see langword="true"/> switches them to the path form. Both forms are always served.
    /// </summary>
    public bool PathBrowserUrls { get; set; }

    /// <summary>
    /// Form of minted <c>service_url</c> (programmatic access with the token header): the path form
    /// <c>http://{server host}/svc/{box}--{port}/</c> by default, because most HTTP clients (.NET, Node, Python) resolve
    /// names through the system resolver, which does not map <c>*.localhost</c>; <see langword="true"/> switches it to the
    /// subdomain form.
    /// </summary>
    public bool SubdomainServiceUrls { get; set; }

    /// <summary>HMAC key for service and download tokens, base64; a random key per server start when empty.</summary>
    public string? TokenSigningKey { get; set; }

    /// <summary>Lifetime of the browser session a LangSmith-login (grant) URL sets after the API key is entered.</summary>
    public TimeSpan LoginSessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Port of the egress proxy listener inside each box's own loopback.</summary>
    public int EgressProxyPort { get; set; } = 3128;

    /// <summary>
    /// Test hook: upstream host name → loopback endpoint (<c>"example.test" → "127.0.0.1:5001"</c>) used by the egress
    /// proxy instead of DNS. Only loopback endpoints are accepted.
    /// </summary>
    public Dictionary<string, string> EgressHostOverrides { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Extra PEM files of CAs the egress proxy trusts for upstream TLS (besides the system store); for tests.</summary>
    public List<string> EgressTrustedCaFiles { get; } = [];
}
