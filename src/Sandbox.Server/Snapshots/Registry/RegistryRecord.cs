using Sandbox.Protocol;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Snapshots.Registry;

/// <summary>
/// A stored registry (<c>DATA/registries/{id}.json</c>, file mode 0600). <see cref="Username"/> and <see cref="Password"/>
/// are write-only: <see cref="ToInfo"/> leaves them out and nothing logs them.
/// </summary>
internal sealed class RegistryRecord
{
    public string Id { get; set; } = "";

    public string Name { get; set; } = "";

    public string Url { get; set; } = "";

    public string? Username { get; set; }

    public string? Password { get; set; }

    public string AuthType { get; set; } = "DOCKER_CONFIG";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The registry host[:port] the URL names (what image references are matched against).</summary>
    public string Host => RegistryEndpoint.Parse(Url).Host;

    public RegistryInfo ToInfo() => new()
    {
        Id = Id,
        Name = Name,
        Url = Url,
        CreatedAt = Timestamps.Format(CreatedAt),
        UpdatedAt = Timestamps.Format(UpdatedAt),
        CreatedBy = "local",
        UpdatedBy = "local",
        AuthType = AuthType,
        Provider = Host is ImageReference.DockerHub or "registry-1.docker.io" or "index.docker.io" ? "DOCKER_HUB"
            : Host == "ghcr.io" ? "GHCR" : "DOCKER_REGISTRY",
        RepositorySearchMode = "NONE",
    };

    public override string ToString() => $"Registry {Name} ({Url})";
}

/// <summary>Where a registry's API is reached: scheme and host[:port].</summary>
internal readonly record struct RegistryEndpoint(string Scheme, string Host)
{
    /// <summary>Parses <c>https://host</c>, <c>http://127.0.0.1:5000</c> or a bare <c>host[:port]</c> (https unless loopback).</summary>
    public static RegistryEndpoint Parse(string url)
    {
        string text = url.Trim();
        string? scheme = null;
        int sep = text.IndexOf("://", StringComparison.Ordinal);
        if (sep > 0)
        {
            scheme = text[..sep].ToLowerInvariant();
            text = text[(sep + 3)..];
        }

        int slash = text.IndexOf('/', StringComparison.Ordinal);
        string host = (slash >= 0 ? text[..slash] : text).ToLowerInvariant();
        if (host is "index.docker.io" or "registry-1.docker.io" or "registry.hub.docker.com")
        {
            host = ImageReference.DockerHub;
        }

        return new RegistryEndpoint(scheme ?? (ImageReference.IsLoopbackHost(host) ? "http" : "https"), host);
    }
}
