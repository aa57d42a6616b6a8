using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;

namespace Sandbox.Server.WebConsole;

/// <summary>
/// Signed-in web console sessions (in memory; a server restart signs everyone out). A session is a random 256-bit
/// value in an HttpOnly, SameSite=Strict cookie; only its SHA-256 is kept. A request carrying a valid session (and,
/// for state-changing calls, the session's synchronizer token) is authenticated exactly as if it carried the API key.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class ConsoleSessions
{
    /// <summary>Session cookie name. The cookie is set once per API path prefix, never for <c>/</c>, so it is never sent to service URLs.</summary>
    public const string CookieName = "sandbox_console";

    /// <summary>Non-secret marker set with <c>Path=/svc</c>: the browser holds a console session (service pages are then sandboxed).</summary>
    public const string MarkerCookieName = "sandbox_console_present";

    /// <summary>Paths the session cookie is scoped to: the console and the public API it calls.</summary>
    public static readonly string[] CookiePaths = ["/ui", "/v2/sandboxes", "/api/v2/sandboxes", "/dp"];

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    private const int MaxSessions = 10_000;
    private static readonly object AuthenticatedKey = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _sessions = new(StringComparer.Ordinal);
    private readonly byte[] _csrfKey = RandomNumberGenerator.GetBytes(32);
    private readonly TimeProvider _time;

    public ConsoleSessions(TimeProvider time) => _time = time;

    /// <summary>Creates a session; returns the cookie value (never stored).</summary>
    public (string Value, DateTimeOffset ExpiresAt) Create()
    {
        var now = _time.GetUtcNow();
        if (_sessions.Count >= MaxSessions)
        {
            foreach (var (key, expires) in _sessions)
            {
                if (expires <= now)
                {
                    _sessions.TryRemove(key, out _);
                }
            }
        }

        string value = Base64Url(RandomNumberGenerator.GetBytes(32));
        var expiresAt = now + Lifetime;
        _sessions[Hash(value)] = expiresAt;
        return (value, expiresAt);
    }

    /// <summary>The session id (hash) of a valid, unexpired cookie value; null otherwise.</summary>
    public string? Validate(string? cookieValue)
    {
        if (string.IsNullOrEmpty(cookieValue) || cookieValue.Length > 128)
        {
            return null;
        }

        string id = Hash(cookieValue);
        if (!_sessions.TryGetValue(id, out var expires))
        {
            return null;
        }

        if (expires <= _time.GetUtcNow())
        {
            _sessions.TryRemove(id, out _);
            return null;
        }

        return id;
    }

    public void Remove(string? cookieValue)
    {
        if (!string.IsNullOrEmpty(cookieValue))
        {
            _sessions.TryRemove(Hash(cookieValue), out _);
        }
    }

    /// <summary>
    /// The synchronizer (CSRF) token of a session: HMAC-SHA256 of the session id under a per-server random key, so a token
    /// is valid for exactly one session and cannot be derived from the cookie. <c>null</c> = the anonymous token of the
    /// sign-in form.
    /// </summary>
    public string CsrfToken(string? sessionId) =>
        Base64Url(HMACSHA256.HashData(_csrfKey, Encoding.UTF8.GetBytes("csrf:" + (sessionId ?? "-"))));

    /// <summary>Constant-time check of a presented CSRF token against the session's.</summary>
    public bool ValidateCsrf(string? sessionId, string? presented) =>
        !string.IsNullOrEmpty(presented) && presented.Length < 128
        && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(CsrfToken(sessionId)));

    /// <summary>The identity of a console request (<c>HttpContext.User</c>).</summary>
    public static ClaimsPrincipal Principal(string sessionId) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, sessionId)], authenticationType: "SandboxConsole"));

    /// <summary>Marks the request as authenticated by a console session (checked by the API-key filter).</summary>
    public static void MarkAuthenticated(HttpContext context) => context.Items[AuthenticatedKey] = true;

    /// <summary>True when the console middleware authenticated this request with a session and, where needed, a CSRF token.</summary>
    public static bool IsAuthenticated(HttpContext context) => context.Items.ContainsKey(AuthenticatedKey);

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
