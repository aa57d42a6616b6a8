using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;

namespace Sandbox.Client;

/// <summary>One imported public key of the key set. Holds parameters, not a crypto object, so concurrent
/// verifications never share an <see cref="RSA"/>/<see cref="ECDsa"/> instance and nothing needs disposing.</summary>
internal sealed class VerificationKey
{
    private readonly RSAParameters? _rsa;
    private readonly ECParameters? _ec;

    private VerificationKey(string algorithm, RSAParameters? rsa, ECParameters? ec)
    {
        Algorithm = algorithm;
        _rsa = rsa;
        _ec = ec;
    }

    /// <summary>The JWS algorithm this key verifies (<c>RS256</c> …).</summary>
    public string Algorithm { get; }

    /// <summary>Algorithms this verifier can check. EdDSA is absent: .NET 10 has no Ed25519.</summary>
    public static bool IsSupported(string algorithm) => algorithm is
        "RS256" or "RS384" or "RS512" or "PS256" or "PS384" or "PS512" or "ES256" or "ES384" or "ES512";

    /// <summary>Imports one JWK; null when it must be skipped (no <c>kid</c>, unsupported or EdDSA algorithm,
    /// <c>kty</c>/<c>crv</c> disagreeing with the algorithm, or malformed key material).</summary>
    public static (string Kid, VerificationKey Key)? TryImport(JsonElement jwk)
    {
        if (jwk.ValueKind != JsonValueKind.Object
            || !TryGetString(jwk, "kid", out var kid) || kid.Length == 0
            || !TryGetString(jwk, "kty", out var kty))
        {
            return null;
        }

        TryGetString(jwk, "crv", out var crv);
        string algorithm;
        if (jwk.TryGetProperty("alg", out var algElement))
        {
            if (algElement.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            algorithm = algElement.GetString()!;
        }
        else
        {
            algorithm = (kty, crv) switch
            {
                ("RSA", _) => "RS256",
                ("EC", "P-256") => "ES256",
                ("EC", "P-384") => "ES384",
                ("EC", "P-521") => "ES512",
                _ => string.Empty, // includes OKP/Ed25519 → EdDSA, which .NET cannot verify
            };
        }

        if (!IsSupported(algorithm))
        {
            return null;
        }

        try
        {
            if (algorithm[0] is 'R' or 'P')
            {
                if (kty != "RSA" || !TryGetBytes(jwk, "n", out var n) || !TryGetBytes(jwk, "e", out var e))
                {
                    return null;
                }

                var rsa = new RSAParameters { Modulus = n, Exponent = e };
                using (var probe = RSA.Create())
                {
                    probe.ImportParameters(rsa); // rejects malformed material now, not at verification
                }

                return (kid, new VerificationKey(algorithm, rsa, null));
            }

            var (curve, expectedCrv, size) = algorithm switch
            {
                "ES256" => (ECCurve.NamedCurves.nistP256, "P-256", 32),
                "ES384" => (ECCurve.NamedCurves.nistP384, "P-384", 48),
                _ => (ECCurve.NamedCurves.nistP521, "P-521", 66),
            };
            if (kty != "EC" || crv != expectedCrv
                || !TryGetBytes(jwk, "x", out var x) || !TryGetBytes(jwk, "y", out var y)
                || x.Length != size || y.Length != size)
            {
                return null;
            }

            var ec = new ECParameters { Curve = curve, Q = new ECPoint { X = x, Y = y } };
            using (var probe = ECDsa.Create())
            {
                probe.ImportParameters(ec);
            }

            return (kid, new VerificationKey(algorithm, null, ec));
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Checks a JWS signature over <paramref name="signingInput"/> with this key's algorithm.</summary>
    public bool Verify(ReadOnlySpan<byte> signingInput, ReadOnlySpan<byte> signature)
    {
        var hash = Algorithm[2..] switch
        {
            "256" => HashAlgorithmName.SHA256,
            "384" => HashAlgorithmName.SHA384,
            _ => HashAlgorithmName.SHA512,
        };
        try
        {
            if (_rsa is { } rsaParameters)
            {
                using var rsa = RSA.Create();
                rsa.ImportParameters(rsaParameters);
                // .NET's PSS uses salt length = hash length, as JWS PS* requires.
                var padding = Algorithm[0] == 'P' ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
                return rsa.VerifyData(signingInput, signature, hash, padding);
            }

            var ecParameters = _ec!.Value;
            if (signature.Length != 2 * ecParameters.Q.X!.Length)
            {
                return false;
            }

            using var ecdsa = ECDsa.Create();
            ecdsa.ImportParameters(ecParameters);
            return ecdsa.VerifyData(signingInput, signature, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static bool TryGetString(JsonElement obj, string name, out string value)
    {
        if (obj.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.String)
        {
            value = element.GetString()!;
            return true;
        }

        value = string.Empty;
        return false;
    }

    private static bool TryGetBytes(JsonElement obj, string name, out byte[] value)
    {
        value = [];
        if (!TryGetString(obj, name, out var text) || text.Length == 0)
        {
            return false;
        }

        try
        {
            value = Base64Url.DecodeFromChars(text);
            return value.Length > 0;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
