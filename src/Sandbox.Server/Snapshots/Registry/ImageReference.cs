using System.Net;
using System.Text.RegularExpressions;

namespace Sandbox.Server.Snapshots.Registry;

/// <summary>
/// A registry image reference (<c>[host[:port]/]repository[:tag][@digest]</c>) with Docker's defaulting rules: no host means
/// Docker Hub (<c>library/</c> for single-component names), no tag means <c>latest</c>.
/// </summary>
internal sealed partial record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>The tag or digest the manifest is fetched by.</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    /// <summary>Whether the registry host is a loopback address (plain HTTP is used for those, as Docker does).</summary>
    public bool IsLoopback => IsLoopbackHost(Registry);

    /// <summary>The host that serves the registry API (<c>docker.io</c> is served by <c>registry-1.docker.io</c>).</summary>
    public string ApiHost => Registry == DockerHub ? "registry-1.docker.io" : Registry;

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^sha256:[a-f0-9]{64}$")]
    private static partial Regex DigestPattern();

    [GeneratedRegex(@"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")]
    private static partial Regex HostPattern();

    /// <summary>Parses <paramref name="value"/> (an optional <c>docker://</c> prefix is accepted).</summary>
    /// <returns>False when it is not a valid reference (the error says why).</returns>
    public static bool TryParse(string value, out ImageReference? reference, out string? error)
    {
        reference = null;
        error = null;
        string text = value.Trim();
        if (text.StartsWith("docker://", StringComparison.Ordinal))
        {
            text = text["docker://".Length..];
        }

        string? digest = null;
        int at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = text[(at + 1)..];
            text = text[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                error = $"'{digest}' is not a sha256 digest (sha256:<64 hex digits>)";
                return false;
            }
        }

        string registry = DockerHub;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            string first = text[..slash];
            if (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost" || first.StartsWith('['))
            {
                registry = first;
                text = text[(slash + 1)..];
                if (!HostPattern().IsMatch(registry))
                {
                    error = $"'{registry}' is not a registry host[:port]";
                    return false;
                }
            }
        }

        string? tag = null;
        int colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            tag = text[(colon + 1)..];
            text = text[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                error = $"'{tag}' is not a valid tag";
                return false;
            }
        }

        if (registry is DockerHub or "index.docker.io")
        {
            registry = DockerHub;
            if (!text.Contains('/', StringComparison.Ordinal))
            {
                text = "library/" + text;
            }
        }

        if (text.Length == 0 || text.Length > 255 || !RepositoryPattern().IsMatch(text))
        {
            error = $"'{text}' is not a valid repository name (lowercase letters, digits and separators)";
            return false;
        }

        reference = new ImageReference(registry, text, digest is null ? tag ?? "latest" : tag, digest);
        return true;
    }

    public static bool IsLoopbackHost(string hostAndPort)
    {
        string host = hostAndPort;
        if (host.StartsWith('['))
        {
            int end = host.IndexOf(']', StringComparison.Ordinal);
            host = end > 0 ? host[1..end] : host;
        }
        else if (host.LastIndexOf(':') is var c and > 0)
        {
            host = host[..c];
        }

        return host == "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    public override string ToString() =>
        (Registry == DockerHub ? "" : Registry + "/") + Repository + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);
}
