using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Sandbox.Tests.Common;

namespace Sandbox.Server.Tests.Networking;

/// <summary>
/// An "internet" server on loopback for egress tests: HTTP and HTTPS (certificate for example.test from a test CA),
/// answering every request with its method, path and headers as JSON.
/// </summary>
internal sealed class LoopbackUpstream : IAsyncDisposable
{
    private readonly KestrelTestHost _host;

    private LoopbackUpstream(KestrelTestHost host, int httpPort, int httpsPort, string caFile)
    {
        _host = host;
        HttpPort = httpPort;
        HttpsPort = httpsPort;
        CaFile = caFile;
    }

    public int HttpPort { get; }

    public int HttpsPort { get; }

    /// <summary>PEM of the CA that signed the HTTPS certificate.</summary>
    public string CaFile { get; }

    public static async Task<LoopbackUpstream> StartAsync(params string[] hostNames)
    {
        var (caPem, leaf) = CreateCertificates(hostNames);
        var caFile = Path.Combine(Directory.CreateTempSubdirectory("upstream-ca-").FullName, "ca.pem");
        await File.WriteAllTextAsync(caFile, caPem);

        var host = await KestrelTestHost.StartAsync(app => ((IApplicationBuilder)app).Run(async context =>
        {
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
            {
                ["method"] = context.Request.Method,
                ["path"] = context.Request.Path.Value + context.Request.QueryString,
                ["scheme"] = context.Request.Scheme,
                ["headers"] = headers,
            });
        }), listen: k =>
        {
            k.Listen(IPAddress.Loopback, 0);
            k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(leaf));
        });
        var addresses = host.App.Urls.Select(a => new Uri(a)).ToList();
        return new LoopbackUpstream(host, addresses.First(a => a.Scheme == "http").Port, addresses.First(a => a.Scheme == "https").Port, caFile);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(Path.GetDirectoryName(CaFile)!, recursive: true);
    }

    private static (string CaPem, X509Certificate2 Leaf) CreateCertificates(string[] hostNames)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Egress test upstream CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + hostNames[0], key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in hostNames)
        {
            san.AddDnsName(name);
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var signed = request.Create(ca, now.AddDays(-1), now.AddDays(29), RandomNumberGenerator.GetBytes(8));
        using var withKey = signed.CopyWithPrivateKey(key);
        return (ca.ExportCertificatePem(), X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null));
    }
}
