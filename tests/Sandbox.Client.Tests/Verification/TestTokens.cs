using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.Client.Tests.Verification;

/// <summary>Mints JWKs and signed JWTs in the test process.</summary>
internal static class TestTokens
{
    public static JsonObject RsaJwk(RSA rsa, string kid, string? alg)
    {
        var p = rsa.ExportParameters(false);
        var jwk = new JsonObject { ["kty"] = "RSA", ["kid"] = kid, ["n"] = B64(p.Modulus!), ["e"] = B64(p.Exponent!) };
        if (alg is not null)
        {
            jwk["alg"] = alg;
        }

        return jwk;
    }

    public static JsonObject EcJwk(ECDsa ecdsa, string kid, string crv)
    {
        var p = ecdsa.ExportParameters(false);
        return new JsonObject { ["kty"] = "EC", ["crv"] = crv, ["kid"] = kid, ["x"] = B64(p.Q.X!), ["y"] = B64(p.Q.Y!) };
    }

    public static string Sign(string alg, string kid, AsymmetricAlgorithm key, JsonObject claims)
    {
        var header = new JsonObject { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = kid };
        var signingInput = B64(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + B64(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var data = Encoding.ASCII.GetBytes(signingInput);
        var hash = alg[2..] switch
        {
            "256" => HashAlgorithmName.SHA256,
            "384" => HashAlgorithmName.SHA384,
            _ => HashAlgorithmName.SHA512,
        };
        var signature = key switch
        {
            RSA rsa => rsa.SignData(data, hash, alg[0] == 'P' ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1),
            ECDsa ec => ec.SignData(data, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => Encoding.ASCII.GetBytes("not-a-real-signature-0123456789abcdef0123456789abcdef0123456789"),
        };
        return signingInput + "." + B64(signature);
    }

    public static JsonObject UserClaims(DateTimeOffset now, string aud = "3f2c--8080.svc.example.com") => new()
    {
        ["sub"] = "ls-user-8c1f",
        ["email"] = "ada@example.com",
        ["name"] = "Ada",
        ["aud"] = aud,
        ["iss"] = "https://smith.langchain.com",
        ["iat"] = now.ToUnixTimeSeconds(),
        ["exp"] = now.ToUnixTimeSeconds() + 300,
    };

    public static string B64(byte[] bytes) => Base64Url.EncodeToString(bytes);
}
