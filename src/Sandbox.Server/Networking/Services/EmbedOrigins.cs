namespace Sandbox.Server.Networking.Services;

/// <summary>Validation and normalisation of <c>embed_origins</c> (delta §4.5.2): at most 5; <c>https://host[:port]</c>, <c>http</c> only for localhost.</summary>
internal static class EmbedOrigins
{
    public const int Max = 5;

    /// <summary>Normalises the list; returns an error message for the first invalid entry.</summary>
    public static string? TryNormalize(IReadOnlyList<string>? origins, out IReadOnlyList<string> normalized)
    {
        normalized = [];
        if (origins is null || origins.Count == 0)
        {
            return null;
        }

        if (origins.Count > Max)
        {
            return $"At most {Max} embed origins are allowed (got {origins.Count}).";
        }

        var result = new List<string>();
        foreach (var origin in origins)
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                || uri.Scheme is not ("https" or "http")
                || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0
                || origin.TrimEnd('/').Length != origin.Length - (origin.EndsWith('/') ? 1 : 0))
            {
                return $"Invalid embed origin '{origin}': expected https://host[:port] with no path.";
            }

            var isLocal = uri.IsLoopback || uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
                || uri.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
            if (uri.Scheme == "http" && !isLocal)
            {
                return $"Invalid embed origin '{origin}': http is only allowed for localhost.";
            }

            var value = uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
            if (!result.Contains(value))
            {
                result.Add(value);
            }
        }

        normalized = result;
        return null;
    }
}
