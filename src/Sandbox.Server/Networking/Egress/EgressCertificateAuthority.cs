using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Sandbox.Server.Networking.Egress;

/// <summary>
/// The egress proxy's per-server certificate authority: a self-signed ECDSA CA made at startup, and a leaf certificate
/// per intercepted host (cached). Its certificate is appended to the system bundle and bind-mounted over the box's
/// trust store, so HTTPS clients in the box accept the proxy and header injection works for HTTPS too.
/// </summary>
internal sealed class EgressCertificateAuthority : IDisposable
{
    /// <summary>The trust bundle path inside a box (Debian/Ubuntu layout), replaced by the combined bundle.</summary>
    public const string BoxBundlePath = "/etc/ssl/certs/ca-certificates.crt";

    private const string SystemBundle = "/etc/ssl/certs/ca-certificates.crt";
    private readonly ConcurrentDictionary<string, Lazy<SslStreamCertificateContext>> _leaves = new(StringComparer.OrdinalIgnoreCase);
    private readonly X509Certificate2 _ca;
    private readonly ECDsa _caKey;
    private readonly TimeProvider _timeProvider;
    private readonly Lazy<string> _bundlePath;

    public EgressCertificateAuthority(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Sandbox egress proxy CA (local), O=Sandbox.AgentTools", _caKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = timeProvider.GetUtcNow();
        _ca = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(5));
        CertificatePem = _ca.ExportCertificatePem();
        _bundlePath = new Lazy<string>(WriteBundle);
    }

    /// <summary>The CA certificate in PEM form.</summary>
    public string CertificatePem { get; }

    /// <summary>The CA certificate (public part).</summary>
    public X509Certificate2 Certificate => _ca;

    /// <summary>A host file holding the system CA bundle plus this CA, created on first use.</summary>
    public string BundlePath => _bundlePath.Value;

    /// <summary>The server certificate context for <paramref name="host"/> (a DNS name or an IP literal).</summary>
    public SslStreamCertificateContext GetServerContext(string host)
        => _leaves.GetOrAdd(host, h => new Lazy<SslStreamCertificateContext>(() => CreateLeaf(h))).Value;

    /// <inheritdoc/>
    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
        try
        {
            if (_bundlePath.IsValueCreated)
            {
                Directory.Delete(Path.GetDirectoryName(_bundlePath.Value)!, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a temp folder.
        }
    }

    private SslStreamCertificateContext CreateLeaf(string host)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + (host.Length <= 64 ? host : host[..64]), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(host, out var ip))
        {
            san.AddIpAddress(ip);
        }
        else
        {
            san.AddDnsName(host);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        var now = _timeProvider.GetUtcNow();
        var notAfter = now.AddDays(397) < _ca.NotAfter ? now.AddDays(397) : _ca.NotAfter.ToUniversalTime();
        using var signed = request.Create(_ca, now.AddDays(-1), notAfter, RandomNumberGenerator.GetBytes(16));
        using var withKey = signed.CopyWithPrivateKey(key);

        // Round-trip through PKCS#12 so the key is usable by the TLS stack on every platform.
        var leaf = X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
        return SslStreamCertificateContext.Create(leaf, [X509CertificateLoader.LoadCertificate(_ca.RawData)], offline: true);
    }

    private string WriteBundle()
    {
        var directory = Directory.CreateTempSubdirectory("sandbox-egress-ca-").FullName;
        var path = Path.Combine(directory, "ca-certificates.crt");
        var builder = new StringBuilder();
        if (File.Exists(SystemBundle))
        {
            builder.Append(File.ReadAllText(SystemBundle)).Append('\n');
        }

        builder.Append("# Sandbox egress proxy CA (local server)\n").Append(CertificatePem).Append('\n');
        File.WriteAllText(path, builder.ToString());
        if (OperatingSystem.IsWindows())
        {
            return path;
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }
}
