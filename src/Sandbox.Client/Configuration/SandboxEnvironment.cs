using System.Globalization;

namespace Sandbox.Client;

/// <summary>Environment lookups and base-URL derivation (spec §2.1–2.3, delta §2.1).</summary>
internal static class SandboxEnvironment
{
    public static string? ApiKey(Func<string, string?> env) =>
        FirstNonBlank(env("LANGSMITH_API_KEY"), env("LANGCHAIN_API_KEY"));

    public static string? Endpoint(Func<string, string?> env) =>
        FirstNonBlank(env("LANGSMITH_ENDPOINT"), env("LANGCHAIN_ENDPOINT"));

    /// <summary>Reads <c>LANGSMITH_{suffix}</c> then <c>LANGCHAIN_{suffix}</c> as float seconds; <c>&lt;= 0</c> → zero
    /// (disabled); unparseable → null (keep the default).</summary>
    public static TimeSpan? Seconds(Func<string, string?> env, string suffix)
    {
        var raw = FirstNonBlank(env("LANGSMITH_" + suffix), env("LANGCHAIN_" + suffix));
        if (raw is null || !double.TryParse(raw.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            || double.IsNaN(seconds) || double.IsInfinity(seconds))
        {
            return null;
        }

        return seconds <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(seconds);
    }

    /// <summary>The control-plane base: an explicit endpoint verbatim minus one trailing <c>/</c>; otherwise the API root
    /// minus one trailing <c>/</c>, minus a trailing <c>/api/v1</c> or <c>/api</c>, plus <c>/api/v2/sandboxes</c>.</summary>
    public static Uri ResolveBaseUrl(Uri? explicitEndpoint, string? langSmithEndpoint)
    {
        if (explicitEndpoint is not null)
        {
            return new Uri(TrimOneSlash(explicitEndpoint.OriginalString));
        }

        var root = TrimOneSlash(langSmithEndpoint ?? SandboxClientOptions.DefaultLangSmithEndpoint);
        return new Uri(StripApiSuffix(root) + "/api/v2/sandboxes");
    }

    /// <summary>The API root for registries (delta §2.1): base minus a trailing <c>/v2/sandboxes</c>, then minus
    /// <c>/api/v1</c> or <c>/api</c>.</summary>
    public static string ResolveRoot(Uri baseUrl)
    {
        var text = baseUrl.OriginalString;
        if (!text.EndsWith("/v2/sandboxes", StringComparison.Ordinal))
        {
            return text;
        }

        return StripApiSuffix(text[..^"/v2/sandboxes".Length]);
    }

    private static string StripApiSuffix(string value)
    {
        if (value.EndsWith("/api/v1", StringComparison.Ordinal))
        {
            return value[..^"/api/v1".Length];
        }

        return value.EndsWith("/api", StringComparison.Ordinal) ? value[..^"/api".Length] : value;
    }

    private static string TrimOneSlash(string value) => value.EndsWith('/') ? value[..^1] : value;

    private static string? FirstNonBlank(params string?[] values) =>
        values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
