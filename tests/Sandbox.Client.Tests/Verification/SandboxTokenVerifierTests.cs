using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Sandbox.Client.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Sandbox.Client.Tests.Verification;

public sealed class SandboxTokenVerifierTests : IDisposable
{
    private const string Audience = "3f2c--8080.svc.example.com";
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly ECDsa _ec256 = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 24, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeJwksHandler _jwks = new();

    public void Dispose()
    {
        _rsa.Dispose();
        _ec256.Dispose();
        _jwks.Dispose();
    }

    [Fact]
    public async Task ValidRs256UserToken_ReturnsIdentity()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "rsa-1", alg: null)); // RSA without alg → RS256
        using var verifier = CreateVerifier();
        var claims = TestTokens.UserClaims(_time.GetUtcNow());
        claims["name"] = "";

        var user = await verifier.VerifyUserTokenAsync(TestTokens.Sign("RS256", "rsa-1", _rsa, claims), Audience);

        Assert.Equal("ls-user-8c1f", user.Subject);
        Assert.Equal("ada@example.com", user.Email);
        Assert.Null(user.Name); // empty name becomes absent
        Assert.Equal(_time.GetUtcNow().AddSeconds(300), user.ExpiresAt);
        Assert.Equal(new Uri("https://api.example.test/.well-known/jwks.json"), Assert.Single(_jwks.RequestedUrls));
    }

    [Fact]
    public async Task ValidPs256UserToken_IsAccepted()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "rsa-pss", alg: "PS256"));
        using var verifier = CreateVerifier();

        var user = await verifier.VerifyUserTokenAsync(Token("PS256", "rsa-pss", _rsa), Audience, "https://smith.langchain.com/");

        Assert.Equal("ls-user-8c1f", user.Subject);
    }

    [Theory]
    [InlineData("ES256", "P-256")]
    [InlineData("ES384", "P-384")]
    [InlineData("ES512", "P-521")]
    public async Task ValidEcdsaUserToken_IsAccepted(string alg, string crv)
    {
        using var ec = crv switch
        {
            "P-256" => ECDsa.Create(ECCurve.NamedCurves.nistP256),
            "P-384" => ECDsa.Create(ECCurve.NamedCurves.nistP384),
            _ => ECDsa.Create(ECCurve.NamedCurves.nistP521),
        };
        _jwks.Keys.Add(TestTokens.EcJwk(ec, "ec-1", crv)); // no alg: derived from the curve
        using var verifier = CreateVerifier();

        var user = await verifier.VerifyUserTokenAsync(Token(alg, "ec-1", ec), Audience);

        Assert.Equal("ls-user-8c1f", user.Subject);
    }

    [Fact]
    public async Task ExpiredBeyondLeeway_IsRejected()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();
        var claims = TestTokens.UserClaims(_time.GetUtcNow().AddMinutes(-10));
        claims["exp"] = _time.GetUtcNow().ToUnixTimeSeconds() - 31;

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(TestTokens.Sign("RS256", "k", _rsa, claims), Audience));

        Assert.Contains("expired", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredWithinLeeway_IsAccepted()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();
        var claims = TestTokens.UserClaims(_time.GetUtcNow().AddMinutes(-10));
        claims["exp"] = _time.GetUtcNow().ToUnixTimeSeconds() - 29;

        var user = await verifier.VerifyUserTokenAsync(TestTokens.Sign("RS256", "k", _rsa, claims), Audience);

        Assert.Equal(_time.GetUtcNow().AddSeconds(-29), user.ExpiresAt);
    }

    [Fact]
    public async Task IssuedInTheFutureBeyondLeeway_IsRejected()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();
        var claims = TestTokens.UserClaims(_time.GetUtcNow());
        claims["iat"] = _time.GetUtcNow().ToUnixTimeSeconds() + 31;

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(TestTokens.Sign("RS256", "k", _rsa, claims), Audience));

        Assert.Contains("iat", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotBeforeInTheFuture_IsRejected()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();
        var claims = TestTokens.UserClaims(_time.GetUtcNow());
        claims["nbf"] = _time.GetUtcNow().ToUnixTimeSeconds() + 60;

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(TestTokens.Sign("RS256", "k", _rsa, claims), Audience));

        Assert.Contains("nbf", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongAudience_IsRejected()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("RS256", "k", _rsa), "other--8080.svc.example.com"));

        Assert.Contains("audience", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AudienceGivenAsUrl_IsReducedToHostAndPort()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();
        var claims = TestTokens.UserClaims(_time.GetUtcNow());
        claims["aud"] = new JsonArray("someone-else", "box.svc.example.com:8443");
        var token = TestTokens.Sign("RS256", "k", _rsa, claims);

        var user = await verifier.VerifyUserTokenAsync(token, "https://box.svc.example.com:8443/api/items?x=1");
        Assert.Equal("ls-user-8c1f", user.Subject);

        // The same host without the port is a different audience.
        await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(token, "https://box.svc.example.com/api"));
    }

    [Fact]
    public async Task WrongIssuer_IsRejected()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("RS256", "k", _rsa), Audience, "https://evil.example.com"));

        Assert.Contains("issuer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlgorithmDifferentFromTheKeys_IsRejected()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();

        // A valid PSS signature by the same key, but the key is declared RS256.
        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("PS256", "k", _rsa), Audience));

        Assert.Contains("does not match its key's algorithm RS256", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TamperedSignature_IsRejectedWithoutEchoingTheToken()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();
        var token = Token("RS256", "k", _rsa);
        var parts = token.Split('.');
        var otherClaims = TestTokens.UserClaims(_time.GetUtcNow());
        otherClaims["sub"] = "admin";
        var forged = parts[0] + "." + TestTokens.B64(System.Text.Encoding.UTF8.GetBytes(otherClaims.ToJsonString())) + "." + parts[2];

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(() => verifier.VerifyUserTokenAsync(forged, Audience));

        Assert.Contains("signature is invalid", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(parts[2], error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(parts[1], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownKid_RefetchesOnce_ThenAtMostEvery30Seconds()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "old", "RS256"));
        using var verifier = CreateVerifier();
        await verifier.VerifyUserTokenAsync(Token("RS256", "old", _rsa), Audience);
        Assert.Equal(1, _jwks.Requests);

        // Rotation: the new key appears in the JWKS, but the last fetch was less than 30 s ago → no refetch.
        _jwks.Keys.Add(TestTokens.EcJwk(_ec256, "new", "P-256"));
        _time.Advance(TimeSpan.FromSeconds(10));
        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("ES256", "new", _ec256), Audience));
        Assert.Contains("'new'", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, _jwks.Requests);

        // 30 s after the last fetch the unknown kid triggers exactly one refetch, which finds it.
        _time.Advance(TimeSpan.FromSeconds(21));
        await verifier.VerifyUserTokenAsync(Token("ES256", "new", _ec256), Audience);
        Assert.Equal(2, _jwks.Requests);

        // Another unknown kid right after: refused without a third fetch.
        await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("RS256", "missing", _rsa), Audience));
        Assert.Equal(2, _jwks.Requests);
    }

    [Fact]
    public async Task KnownKid_IsServedFromCacheFor5Minutes_ThenRefetched()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();

        for (var i = 0; i < 5; i++)
        {
            await verifier.VerifyUserTokenAsync(Token("RS256", "k", _rsa), Audience);
            _time.Advance(TimeSpan.FromSeconds(59)); // 4 min 55 s in total
        }

        Assert.Equal(1, _jwks.Requests);

        _time.Advance(TimeSpan.FromSeconds(6)); // set now older than 5 min
        await verifier.VerifyUserTokenAsync(Token("RS256", "k", _rsa), Audience);
        Assert.Equal(2, _jwks.Requests);
    }

    [Fact]
    public async Task SuccessfulFetch_ReplacesTheWholeKeySet()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();
        await verifier.VerifyUserTokenAsync(Token("RS256", "k", _rsa), Audience);

        _jwks.Keys.Clear(); // key "k" is revoked
        _jwks.Keys.Add(TestTokens.EcJwk(_ec256, "e", "P-256"));
        _time.Advance(TimeSpan.FromMinutes(6));
        await verifier.VerifyUserTokenAsync(Token("ES256", "e", _ec256), Audience);

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("RS256", "k", _rsa), Audience));
        Assert.Contains("'k'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentVerifications_ShareOneFetch()
    {
        using var held = new FakeJwksHandler(holdResponses: true);
        held.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier(held);
        var token = Token("RS256", "k", _rsa);

        var verifications = Enumerable.Range(0, 8).Select(_ => verifier.VerifyUserTokenAsync(token, Audience)).ToList();
        held.Release();
        var users = await Task.WhenAll(verifications);

        Assert.All(users, u => Assert.Equal("ls-user-8c1f", u.Subject));
        Assert.Equal(1, held.Requests);
    }

    [Fact]
    public async Task EdDsaKey_IsSkipped_AndEdDsaTokensFailClearly()
    {
        _jwks.Keys.Add(new JsonObject
        {
            ["kty"] = "OKP", ["crv"] = "Ed25519", ["kid"] = "ed", ["x"] = TestTokens.B64(new byte[32]),
        });
        _jwks.Keys.Add(new JsonObject
        {
            ["kty"] = "OKP", ["crv"] = "Ed25519", ["kid"] = "ed-alg", ["alg"] = "EdDSA", ["x"] = TestTokens.B64(new byte[32]),
        });
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "rsa-no-kid", "RS256"));
        _jwks.Keys[^1].Remove("kid"); // keys without kid are skipped too
        using var verifier = CreateVerifier();

        var edError = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("EdDSA", "ed", key: null), Audience));
        Assert.Contains("EdDSA", edError.Message, StringComparison.Ordinal);
        Assert.Contains("Ed25519", edError.Message, StringComparison.Ordinal);

        // A token claiming another algorithm for the EdDSA key's kid finds no key: the EdDSA key was not imported.
        var kidError = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("RS256", "ed", _rsa), Audience));
        Assert.Contains("No signing key with kid 'ed'", kidError.Message, StringComparison.Ordinal);
        Assert.Contains("EdDSA", kidError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallbackSubject_IsRejectedAsUser()
    {
        _jwks.Keys.Add(TestTokens.RsaJwk(_rsa, "k", "RS256"));
        using var verifier = CreateVerifier();
        var claims = TestTokens.UserClaims(_time.GetUtcNow());
        claims["sub"] = SandboxTokenVerifier.CallbackSubject;

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(TestTokens.Sign("RS256", "k", _rsa, claims), Audience));

        Assert.Contains("callback", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b")]
    [InlineData("")]
    [InlineData("e30.e30.")]
    public async Task MalformedToken_IsRejectedWithoutFetching(string token)
    {
        using var verifier = CreateVerifier();

        await Assert.ThrowsAsync<SandboxTokenVerificationException>(() => verifier.VerifyUserTokenAsync(token, Audience));

        Assert.Equal(0, _jwks.Requests);
    }

    [Fact]
    public async Task FailedJwksFetch_IsAVerificationError()
    {
        _jwks.Status = HttpStatusCode.InternalServerError;
        using var verifier = CreateVerifier();

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("RS256", "k", _rsa), Audience));
        Assert.Equal(500, error.StatusCode);

        _jwks.Status = HttpStatusCode.OK;
        _jwks.RawBody = """{"not_keys": []}""";
        _time.Advance(TimeSpan.FromSeconds(30));
        error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("RS256", "k", _rsa), Audience));
        Assert.Contains("'keys' array", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedJwksBody_IsAVerificationError()
    {
        _jwks.RawBody = "{\"keys\": [], \"padding\": \"" + new string('x', 2 * 1024 * 1024) + "\"}";
        using var verifier = CreateVerifier();

        var error = await Assert.ThrowsAsync<SandboxTokenVerificationException>(
            () => verifier.VerifyUserTokenAsync(Token("RS256", "k", _rsa), Audience));

        Assert.Contains("Fetching the key set", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://jwks.example.com/.well-known/jwks.json")]
    [InlineData("http://10.0.0.1/jwks.json")]
    [InlineData("http://[::2]/jwks.json")]
    [InlineData("ftp://localhost/jwks.json")]
    public void InsecureJwksUrlToNonLoopbackHost_IsRejectedAtConstruction(string url)
    {
        var error = Assert.Throws<ArgumentException>(() => new SandboxTokenVerifier(new SandboxTokenVerifierOptions { JwksUrl = new Uri(url) }));
        Assert.Contains("https", error.Message, StringComparison.Ordinal);

        using var allowed = new SandboxTokenVerifier(new SandboxTokenVerifierOptions { JwksUrl = new Uri(url), AllowInsecureJwks = true });
        Assert.Equal(new Uri(url), allowed.JwksUrl);
    }

    [Theory]
    [InlineData("http://localhost:8080/.well-known/jwks.json")]
    [InlineData("http://127.0.0.1/jwks.json")]
    [InlineData("http://127.4.5.6:9000/jwks.json")]
    [InlineData("http://[::1]:8080/jwks.json")]
    public void HttpJwksUrlToLoopback_IsAllowed(string url)
    {
        using var verifier = new SandboxTokenVerifier(new SandboxTokenVerifierOptions { JwksUrl = new Uri(url) });
        Assert.Equal(new Uri(url), verifier.JwksUrl);
    }

    [Fact]
    public void JwksUrl_DefaultsToTheOriginOfTheApiUrl()
    {
        using var verifier = new SandboxTokenVerifier(new SandboxTokenVerifierOptions { ApiUrl = new Uri("https://x.example.com/api/v1") });
        Assert.Equal(new Uri("https://x.example.com/.well-known/jwks.json"), verifier.JwksUrl);
    }

    private SandboxTokenVerifier CreateVerifier(FakeJwksHandler? handler = null) => new(new SandboxTokenVerifierOptions
    {
        ApiUrl = new Uri("https://api.example.test/api/v1"),
        HttpMessageHandler = handler ?? _jwks,
        TimeProvider = _time,
    });

    private string Token(string alg, string kid, AsymmetricAlgorithm? key) =>
        TestTokens.Sign(alg, kid, key!, TestTokens.UserClaims(_time.GetUtcNow()));
}
