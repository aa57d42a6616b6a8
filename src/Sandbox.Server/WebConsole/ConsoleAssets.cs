using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Sandbox.Server.WebConsole;

/// <summary>
/// The console's static files, embedded in the assembly under <c>console/</c> (pages, scripts, styles, and the
/// xterm.js files the build takes from the npm registry into <c>console/vendor/</c>).
/// </summary>
internal sealed class ConsoleAssets
{
    private const string Prefix = "console/";
    private readonly FrozenDictionary<string, Asset> _assets;

    public ConsoleAssets()
    {
        var assembly = typeof(ConsoleAssets).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (string name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            byte[] bytes = copy.ToArray();
            string etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"";
            assets[name[Prefix.Length..]] = new Asset(bytes, ContentType(name), etag);
        }

        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>True when the terminal library was built into the assembly.</summary>
    public bool HasTerminal => _assets.ContainsKey("vendor/xterm.js");

    public Asset? Find(string relativePath) => _assets.TryGetValue(relativePath, out var asset) ? asset : null;

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    internal sealed record Asset(byte[] Content, string ContentType, string ETag);
}
