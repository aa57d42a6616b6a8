using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Sandbox.Client;

/// <summary>
/// Verifies the identity tokens LangSmith attaches to requests reaching code behind a sandbox service URL (delta §7):
/// the user token in <see cref="SandboxIdentityHeaders.UserToken"/>, checked against the LangSmith key set (JWKS).
/// </summary>
/// <remarks>
/// <para>Thread-safe; create one per process and reuse it, so the key set is cached (5 minutes; an unknown <c>kid</c>
/// triggers a refetch at most once per 30 s; concurrent verifications share one fetch).</para>
/// <para>Supported algorithms: <c>RS256/384/512</c>, <c>PS256/384/512</c>, <c>ES256/384/512</c>. <b>EdDSA (Ed25519) is
/// not supported</b>: .NET 10 has no Ed25519 implementation, so EdDSA keys in the key set are skipped and EdDSA-signed
/// tokens are rejected with a <see cref="SandboxTokenVerificationException"/> saying so. Proxy-callback signatures
/// (<see cref="SandboxIdentityHeaders.CallbackSignature"/>) are EdDSA-only and therefore cannot be verified by this
/// class; there is no <c>VerifyCallback</c>.</para>
/// <para>Every verification failure is a <see cref="SandboxTokenVerificationException"/>; its message never contains the
/// token.</para>
/// </remarks>
public sealed class SandboxTokenVerifier : IDisposable
{
    /// <summary>Default API URL when neither the options nor <c>LANGSMITH_ENDPOINT</c> give one.</summary>
    public const string DefaultApiUrl = "https://api.smith.langchain.com";

    /// <summary>The subject of proxy-callback tokens, never accepted as a user.</summary>
    public const string CallbackSubject = "langsmith-sandbox-callback";

    private const double LeewaySeconds = 30;

    private const int MaxJwksBytes = 1024 * 1024;

    private readonly HttpClient _http;
    private readonly JsonWebKeySetCache _keys;
    private readonly TimeProvider _time;

    /// <summary>Creates a verifier with default settings (API URL from <c>LANGSMITH_ENDPOINT</c>).</summary>
    public SandboxTokenVerifier()
        : this(new SandboxTokenVerifierOptions())
    {
    }

    /// <summary>Creates a verifier.</summary>
    /// <param name="options">The settings.</param>
    /// <exception cref="ArgumentException">The key-set URL is not https (nor http to a loopback host) and
    /// <see cref="SandboxTokenVerifierOptions.AllowInsecureJwks"/> is off, or a URL is not absolute, or the timeout is
    /// not positive.</exception>
    public SandboxTokenVerifier(SandboxTokenVerifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Timeout <= TimeSpan.Zero && options.Timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException("Timeout must be positive.", nameof(options));
        }

        JwksUrl = ResolveJwksUrl(options);
        if (!options.AllowInsecureJwks && !IsSecure(JwksUrl))
        {
            throw new ArgumentException(
                $"The key-set URL {JwksUrl} must use https (plain http is allowed only to localhost, 127.x.x.x or [::1]); " +
                "set AllowInsecureJwks to override.", nameof(options));
        }

        _time = options.TimeProvider ?? TimeProvider.System;
        _http = options.HttpMessageHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false)
            : new HttpClient();
        _http.Timeout = options.Timeout;
        _http.MaxResponseContentBufferSize = MaxJwksBytes; // a key set is a few KB; bound what an endpoint can make us buffer
        _keys = new JsonWebKeySetCache(_http, JwksUrl, _time);
    }

    /// <summary>The URL the key set is fetched from.</summary>
    public Uri JwksUrl { get; }

    /// <summary>
    /// Verifies a user token (the value of <see cref="SandboxIdentityHeaders.UserToken"/>) and returns who it names
    /// (delta §7.4).
    /// </summary>
    /// <param name="token">The compact JWT.</param>
    /// <param name="audience">The service host the request was addressed to (e.g. its <c>Host</c> header), or a full
    /// service URL, which is reduced to its host (with port). The token's <c>aud</c> must contain exactly this.</param>
    /// <param name="issuer">When given, the token's <c>iss</c> must equal it (a trailing <c>/</c> is ignored).</param>
    /// <param name="cancellationToken">Stops waiting (a shared key-set fetch keeps running for other callers).</param>
    /// <returns>The verified identity.</returns>
    /// <exception cref="SandboxTokenVerificationException">The token is malformed, unsigned by a known key, EdDSA-signed,
    /// expired, not yet valid, for another audience or issuer, a callback token, or the key set could not be
    /// fetched.</exception>
    /// <exception cref="ArgumentException"><paramref name="audience"/> is empty or an unparsable URL.</exception>
    public async Task<VerifiedUser> VerifyUserTokenAsync(
        string token, string audience, string? issuer = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        var expectedAudience = ReduceAudience(audience);

        using var claims = await VerifyAsync(token, issuer, cancellationToken).ConfigureAwait(false);
        var root = claims.RootElement;
        if (!ReadAudiences(root).Contains(expectedAudience, StringComparer.Ordinal))
        {
            throw new SandboxTokenVerificationException($"The token's audience does not include '{expectedAudience}'.");
        }

        if (!root.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String || sub.GetString()!.Length == 0)
        {
            throw new SandboxTokenVerificationException("The token has no subject (sub).");
        }

        var subject = sub.GetString()!;
        if (subject == CallbackSubject)
        {
            throw new SandboxTokenVerificationException("The token is a proxy-callback signature, not a user token.");
        }

        var exp = root.GetProperty("exp").GetDouble();
        return new VerifiedUser(
            subject,
            OptionalString(root, "email"),
            OptionalString(root, "name"),
            DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Floor(exp * 1000)));
    }

    /// <summary>Releases the HTTP client (not a handler passed in the options).</summary>
    public void Dispose() => _http.Dispose();

    /// <summary>Checks structure, key, signature and the common claims (delta §7.3); returns the claims document.</summary>
    private async Task<JsonDocument> VerifyAsync(string token, string? issuer, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(token))
        {
            throw new SandboxTokenVerificationException("The token is missing.");
        }

        var parts = token.Split('.');
        if (parts.Length != 3 || parts[0].Length == 0 || parts[1].Length == 0 || parts[2].Length == 0)
        {
            throw new SandboxTokenVerificationException("The token is not a compact JWS (three non-empty base64url parts).");
        }

        string alg, kid;
        using (var header = ParseJsonObject(parts[0], "header"))
        {
            var h = header.RootElement;
            alg = h.TryGetProperty("alg", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : string.Empty;
            kid = h.TryGetProperty("kid", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString()! : string.Empty;
        }

        if (alg == "EdDSA")
        {
            throw new SandboxTokenVerificationException(
                "The token is EdDSA (Ed25519)-signed, which this verifier cannot check: .NET has no Ed25519 support.");
        }

        if (!VerificationKey.IsSupported(alg))
        {
            throw new SandboxTokenVerificationException($"The token's algorithm '{Truncate(alg)}' is not allowed.");
        }

        if (kid.Length == 0)
        {
            throw new SandboxTokenVerificationException("The token header has no key id (kid).");
        }

        var key = await _keys.GetKeyAsync(kid, cancellationToken).ConfigureAwait(false);
        if (key.Algorithm != alg)
        {
            throw new SandboxTokenVerificationException(
                $"The token's algorithm {alg} does not match its key's algorithm {key.Algorithm}.");
        }

        var signature = DecodePart(parts[2], "signature");
        var signingInput = Encoding.ASCII.GetBytes(token, 0, parts[0].Length + 1 + parts[1].Length);
        if (!key.Verify(signingInput, signature))
        {
            throw new SandboxTokenVerificationException("The token's signature is invalid.");
        }

        var claims = ParseJsonObject(parts[1], "payload");
        try
        {
            CheckTimeAndIssuer(claims.RootElement, issuer);
            return claims;
        }
        catch
        {
            claims.Dispose();
            throw;
        }
    }

    private void CheckTimeAndIssuer(JsonElement claims, string? issuer)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var exp = RequiredNumber(claims, "exp");
        if (now > exp + LeewaySeconds)
        {
            throw new SandboxTokenVerificationException("The token has expired.");
        }

        var iat = RequiredNumber(claims, "iat");
        if (iat > now + LeewaySeconds)
        {
            throw new SandboxTokenVerificationException("The token was issued in the future (iat).");
        }

        if (claims.TryGetProperty("nbf", out var nbf))
        {
            if (nbf.ValueKind != JsonValueKind.Number)
            {
                throw new SandboxTokenVerificationException("The token's nbf claim is not a number.");
            }

            if (nbf.GetDouble() > now + LeewaySeconds)
            {
                throw new SandboxTokenVerificationException("The token is not yet valid (nbf).");
            }
        }

        if (!claims.TryGetProperty("iss", out var iss) || iss.ValueKind != JsonValueKind.String)
        {
            throw new SandboxTokenVerificationException("The token has no issuer (iss).");
        }

        if (issuer is not null && iss.GetString() != issuer.TrimEnd('/'))
        {
            throw new SandboxTokenVerificationException($"The token's issuer is not '{issuer.TrimEnd('/')}'.");
        }

        _ = ReadAudiences(claims);
    }

    private static List<string> ReadAudiences(JsonElement claims)
    {
        if (!claims.TryGetProperty("aud", out var aud))
        {
            throw new SandboxTokenVerificationException("The token has no audience (aud).");
        }

        if (aud.ValueKind == JsonValueKind.String)
        {
            return [aud.GetString()!];
        }

        if (aud.ValueKind == JsonValueKind.Array && aud.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            return aud.EnumerateArray().Select(e => e.GetString()!).ToList();
        }

        throw new SandboxTokenVerificationException("The token's audience (aud) is not a string or an array of strings.");
    }

    private static double RequiredNumber(JsonElement claims, string name) =>
        claims.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw new SandboxTokenVerificationException($"The token's {name} claim is missing or not a number.");

    private static string? OptionalString(JsonElement claims, string name) =>
        claims.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0
            ? value.GetString()
            : null;

    private static JsonDocument ParseJsonObject(string part, string what)
    {
        var bytes = DecodePart(part, what);
        try
        {
            var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                throw new SandboxTokenVerificationException($"The token {what} is not a JSON object.");
            }

            return document;
        }
        catch (JsonException ex)
        {
            throw new SandboxTokenVerificationException($"The token {what} is not valid JSON.", ex);
        }
    }

    private static byte[] DecodePart(string part, string what)
    {
        try
        {
            return Base64Url.DecodeFromChars(part);
        }
        catch (FormatException ex)
        {
            throw new SandboxTokenVerificationException($"The token {what} is not valid base64url.", ex);
        }
    }

    private static string ReduceAudience(string audience)
    {
        if (!audience.Contains("://", StringComparison.Ordinal))
        {
            return audience;
        }

        return Uri.TryCreate(audience, UriKind.Absolute, out var uri)
            ? uri.Authority
            : throw new ArgumentException($"The audience '{audience}' is not a valid URL.", nameof(audience));
    }

    private static Uri ResolveJwksUrl(SandboxTokenVerifierOptions options)
    {
        if (options.JwksUrl is { } explicitUrl)
        {
            return explicitUrl.IsAbsoluteUri
                ? explicitUrl
                : throw new ArgumentException("JwksUrl must be an absolute URL.", nameof(options));
        }

        var apiUrl = options.ApiUrl;
        if (apiUrl is null)
        {
            var fromEnvironment = Environment.GetEnvironmentVariable("LANGSMITH_ENDPOINT");
            apiUrl = new Uri(string.IsNullOrWhiteSpace(fromEnvironment) ? DefaultApiUrl : fromEnvironment.Trim());
        }

        if (!apiUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("ApiUrl must be an absolute URL.", nameof(options));
        }

        return new Uri(apiUrl.GetLeftPart(UriPartial.Authority) + "/.well-known/jwks.json");
    }

    private static bool IsSecure(Uri url)
    {
        if (url.Scheme == Uri.UriSchemeHttps)
        {
            return true;
        }

        if (url.Scheme != Uri.UriSchemeHttp)
        {
            return false;
        }

        if (string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(url.IdnHost, out var address) && IPAddress.IsLoopback(address)
            && (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? address.Equals(IPAddress.IPv6Loopback)
                : address.GetAddressBytes()[0] == 127);
    }

    internal static string Truncate(string value) =>
        value.Length <= 64 ? value : string.Create(CultureInfo.InvariantCulture, $"{value[..64]}…");
}
