using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Sandbox.Server.Networking.Services;

/// <summary>
/// Signs and verifies the server's JWTs (HS256 with a per-server key): service tokens (box id, port, expiry, embed
/// origins), download tokens (box id, path, optional expiry) and browser login sessions. Verification is constant-time.
/// </summary>
internal sealed class ServiceTokenSigner
{
    private static readonly byte[] Header = Encoding.UTF8.GetBytes("""{"alg":"HS256","typ":"JWT"}""");
    private readonly byte[] _key;
    private readonly TimeProvider _timeProvider;
    private readonly string _encodedHeader = Base64Url(Header);

    public ServiceTokenSigner(IOptions<NetworkingOptions> options, TimeProvider timeProvider)
    {
        _key = string.IsNullOrEmpty(options.Value.TokenSigningKey)
            ? RandomNumberGenerator.GetBytes(32)
            : Convert.FromBase64String(options.Value.TokenSigningKey);
        _timeProvider = timeProvider;
    }

    /// <summary>The current time.</summary>
    public DateTimeOffset Now => _timeProvider.GetUtcNow();

    /// <summary>Signs a claims object; <c>iat</c> is added.</summary>
    public string Sign(JsonObject claims)
    {
        claims["iat"] = Now.ToUnixTimeSeconds();
        var payload = Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signingInput = _encodedHeader + "." + payload;
        return signingInput + "." + Base64Url(HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(signingInput)));
    }

    /// <summary>Verifies signature, audience and expiry.</summary>
    public TokenCheck Verify(string? token, string audience)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 8192)
        {
            return TokenCheck.Failed(TokenFailure.Missing);
        }

        var parts = token.Split('.');
        if (parts.Length != 3 || parts[0] != _encodedHeader)
        {
            return TokenCheck.Failed(TokenFailure.Invalid);
        }

        var expected = HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
        byte[] actual;
        JsonElement claims;
        try
        {
            actual = FromBase64Url(parts[2]);
            claims = JsonSerializer.Deserialize<JsonElement>(FromBase64Url(parts[1]));
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return TokenCheck.Failed(TokenFailure.Invalid);
        }

        if (!CryptographicOperations.FixedTimeEquals(expected, actual))
        {
            return TokenCheck.Failed(TokenFailure.Invalid);
        }

        if (claims.ValueKind != JsonValueKind.Object
            || !claims.TryGetProperty("aud", out var aud) || aud.GetString() != audience
            || !claims.TryGetProperty("sub", out var sub) || sub.ValueKind != JsonValueKind.String)
        {
            return TokenCheck.Failed(TokenFailure.Invalid);
        }

        if (claims.TryGetProperty("exp", out var exp) && exp.ValueKind == JsonValueKind.Number
            && exp.GetInt64() <= Now.ToUnixTimeSeconds())
        {
            return TokenCheck.Failed(TokenFailure.Expired);
        }

        return new TokenCheck(TokenFailure.None, claims);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }
}
