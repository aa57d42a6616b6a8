namespace Sandbox.Client;

/// <summary>A LangSmith-login service URL (delta §4.5.4): durable, browser-only, no token and no expiry.</summary>
/// <param name="Url">The URL to open (<c>browser_url</c>, else <c>service_url</c>, else empty).</param>
/// <param name="Access"><c>restricted</c> or <c>workspace</c> as echoed by the server.</param>
/// <param name="EmbedOrigins">The normalised embed origins stored on the grant.</param>
public sealed record ServiceLoginUrl(string Url, string Access, IReadOnlyList<string> EmbedOrigins);
