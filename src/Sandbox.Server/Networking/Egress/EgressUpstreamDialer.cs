using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace Sandbox.Server.Networking.Egress;

/// <summary>
/// Resolves and dials upstream destinations of the egress proxy. The server's own loopback, link-local and unspecified
/// addresses are never dialed (a box must not reach the host's services); tests map names to loopback listeners
/// through <see cref="NetworkingOptions.EgressHostOverrides"/>.
/// </summary>
internal sealed class EgressUpstreamDialer
{
    private readonly NetworkingOptions _options;
    private readonly Lazy<X509Certificate2Collection> _extraRoots;

    public EgressUpstreamDialer(IOptions<NetworkingOptions> options)
    {
        _options = options.Value;
        _extraRoots = new Lazy<X509Certificate2Collection>(() =>
        {
            var roots = new X509Certificate2Collection();
            foreach (var file in _options.EgressTrustedCaFiles)
            {
                roots.ImportFromPemFile(file);
            }

            return roots;
        });
    }

    /// <summary>The address to dial for <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <exception cref="EgressBlockedException">The destination is the server's own loopback or a link-local address.</exception>
    /// <exception cref="SocketException">The name does not resolve.</exception>
    public async Task<IPEndPoint> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        if (_options.EgressHostOverrides.TryGetValue(host, out var mapped))
        {
            var endpoint = IPEndPoint.Parse(mapped);
            if (!IPAddress.IsLoopback(endpoint.Address))
            {
                throw new EgressBlockedException($"the egress host override for \"{host}\" must be a loopback endpoint");
            }

            return endpoint;
        }

        var address = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? literal
            : (await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false))
                .OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)
                .FirstOrDefault() ?? throw new SocketException((int)SocketError.HostNotFound);

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            || address.IsIPv6LinkLocal || (address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes() is [169, 254, ..]))
        {
            throw new EgressBlockedException($"host \"{host}\" resolves to {address}, a loopback or link-local address of the server, which boxes may not reach");
        }

        return new IPEndPoint(address, port);
    }

    public static async Task<Stream> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Opens TLS to the upstream, validating its certificate against the system store and any configured extra CAs.</summary>
    public async Task<SslStream> AuthenticateAsync(Stream upstream, string host, CancellationToken cancellationToken)
    {
        var tls = new SslStream(upstream, leaveInnerStreamOpen: false);
        await tls.AuthenticateAsClientAsync(
            new SslClientAuthenticationOptions
            {
                TargetHost = host,
                ApplicationProtocols = [SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = Validate,
            },
            cancellationToken).ConfigureAwait(false);
        return tls;
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || _extraRoots.Value.Count == 0 || certificate is null)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_extraRoots.Value);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }
}
