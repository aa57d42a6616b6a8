using System.Globalization;

namespace Sandbox.Server.Networking.Services;

/// <summary>
/// Where a service request goes: a box (id or name) and a port, from the host (<c>{box}--{port}.localhost</c>) or from
/// the path form (<c>/svc/{box}--{port}/…</c>), plus the path base the path form strips.
/// </summary>
internal readonly record struct ServiceAddress(string BoxRef, int Port, string PathBase)
{
    /// <summary>Prefix of the path form.</summary>
    public const string PathPrefix = "/svc/";

    /// <summary>Parses <c>{box}--{port}.{suffix}</c> (case-insensitive suffix).</summary>
    public static bool TryParseHost(string host, string suffix, out ServiceAddress address)
    {
        address = default;
        var dotSuffix = "." + suffix;
        if (!host.EndsWith(dotSuffix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return TryParseLabel(host[..^dotSuffix.Length], "", out address);
    }

    /// <summary>Parses <c>/svc/{box}--{port}[/rest]</c>; <paramref name="rest"/> is the path after the base (at least <c>/</c>).</summary>
    public static bool TryParsePath(string path, out ServiceAddress address, out string rest)
    {
        address = default;
        rest = "/";
        if (!path.StartsWith(PathPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var end = path.IndexOf('/', PathPrefix.Length);
        var label = end < 0 ? path[PathPrefix.Length..] : path[PathPrefix.Length..end];
        rest = end < 0 ? "/" : path[end..];
        return TryParseLabel(label, PathPrefix + label, out address);
    }

    /// <summary>The label <c>{box}--{port}</c>.</summary>
    public static string Label(string boxRef, int port) => boxRef + "--" + port.ToString(CultureInfo.InvariantCulture);

    private static bool TryParseLabel(string label, string pathBase, out ServiceAddress address)
    {
        address = default;
        var split = label.LastIndexOf("--", StringComparison.Ordinal);
        if (split <= 0
            || !int.TryParse(label.AsSpan(split + 2), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            return false;
        }

        address = new ServiceAddress(label[..split], port, pathBase);
        return true;
    }
}
