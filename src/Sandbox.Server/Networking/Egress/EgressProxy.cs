using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Sandbox.Server.Networking.Egress;

/// <summary>
/// The egress proxy's per-connection logic. A box reaches it through <c>HTTP_PROXY</c>/<c>HTTPS_PROXY</c>:
/// plain requests arrive in absolute form, HTTPS as <c>CONNECT host:port</c>. Every destination is checked against the
/// box's <c>access_control</c>; a refused one gets 403 naming the host and the rule. CONNECT tunnels carrying TLS are
/// intercepted with a leaf certificate of the server's CA so matching header rules are applied to HTTPS requests too.
/// Each proxied request uses its own upstream connection (<c>Connection: close</c>), so every request is inspected.
/// </summary>
internal sealed partial class EgressProxy(
    EgressCertificateAuthority authority,
    EgressUpstreamDialer dialer,
    EgressSecrets secrets,
    ILogger<EgressProxy> logger)
{
    private static readonly TimeSpan HeadTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Serves one connection from a box until it ends.</summary>
    public async Task HandleAsync(Stream client, string boxId, EgressPolicy policy, CancellationToken cancellationToken)
    {
        await using var _ = client.ConfigureAwait(false);
        try
        {
            var (head, leftover) = await ReadHeadAsync(client, cancellationToken).ConfigureAwait(false);
            if (head is null)
            {
                return;
            }

            if (head.Method == "CONNECT")
            {
                await HandleConnectAsync(client, head, leftover, boxId, policy, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (!Uri.TryCreate(head.Target, UriKind.Absolute, out var uri) || uri.Scheme != "http")
            {
                await RespondAsync(client, 400, "Bad Request", "The sandbox egress proxy expects absolute http:// URLs or CONNECT.", cancellationToken).ConfigureAwait(false);
                return;
            }

            head.Target = uri.PathAndQuery;
            var endpoint = await CheckAsync(client, boxId, policy, uri.IdnHost, uri.Port, cancellationToken).ConfigureAwait(false);
            if (endpoint is not null)
            {
                await ForwardAsync(client, head, leftover, boxId, policy, uri.IdnHost, uri.Port, endpoint, tls: false, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or AuthenticationException or ObjectDisposedException)
        {
            LogConnectionEnded(logger, boxId, ex.Message);
        }
    }

    private async Task HandleConnectAsync(Stream client, HttpRequestHead head, byte[] leftover, string boxId, EgressPolicy policy, CancellationToken cancellationToken)
    {
        if (!TrySplitAuthority(head.Target, out var host, out var port))
        {
            await RespondAsync(client, 400, "Bad Request", $"Invalid CONNECT target \"{head.Target}\".", cancellationToken).ConfigureAwait(false);
            return;
        }

        var endpoint = await CheckAsync(client, boxId, policy, host, port, cancellationToken).ConfigureAwait(false);
        if (endpoint is null)
        {
            return;
        }

        await client.WriteAsync("HTTP/1.1 200 Connection Established\r\n\r\n"u8.ToArray(), cancellationToken).ConfigureAwait(false);
        var tunnel = new PrefixedStream(leftover, client);
        var first = new byte[1];
        if (await tunnel.ReadAsync(first, cancellationToken).ConfigureAwait(false) == 0)
        {
            return;
        }

        var replay = new PrefixedStream(first, tunnel);
        if (first[0] != 0x16)
        {
            // Not TLS: plain HTTP inside the tunnel, still inspected.
            var (inner, rest) = await ReadHeadAsync(replay, cancellationToken).ConfigureAwait(false);
            if (inner is not null)
            {
                await ForwardAsync(replay, inner, rest, boxId, policy, host, port, endpoint, tls: false, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        await using var tls = new SslStream(replay, leaveInnerStreamOpen: true);
        await tls.AuthenticateAsServerAsync(
            new SslServerAuthenticationOptions
            {
                ServerCertificateContext = authority.GetServerContext(host),
                ApplicationProtocols = [SslApplicationProtocol.Http11],
            },
            cancellationToken).ConfigureAwait(false);
        var (request, body) = await ReadHeadAsync(tls, cancellationToken).ConfigureAwait(false);
        if (request is not null)
        {
            await ForwardAsync(tls, request, body, boxId, policy, host, port, endpoint, tls: true, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Resolves and checks a destination; on refusal answers 403/502 and returns null.</summary>
    private async Task<IPEndPoint?> CheckAsync(Stream client, string boxId, EgressPolicy policy, string host, int port, CancellationToken cancellationToken)
    {
        IPEndPoint endpoint;
        try
        {
            endpoint = await dialer.ResolveAsync(host, port, cancellationToken).ConfigureAwait(false);
        }
        catch (EgressBlockedException ex)
        {
            LogBlocked(logger, boxId, host, ex.Message);
            await RespondAsync(client, 403, "Forbidden", "Blocked by the sandbox egress proxy: " + ex.Message + ".", cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (SocketException ex)
        {
            await RespondAsync(client, 502, "Bad Gateway", $"The sandbox egress proxy cannot resolve \"{host}\": {ex.Message}.", cancellationToken).ConfigureAwait(false);
            return null;
        }

        var decision = policy.CheckAccess(host, endpoint.Address);
        if (!decision.Allowed)
        {
            LogBlocked(logger, boxId, host, decision.Reason!);
            await RespondAsync(client, 403, "Forbidden", "Blocked by the sandbox egress policy (proxy_config.access_control): " + decision.Reason + ".", cancellationToken).ConfigureAwait(false);
            return null;
        }

        return endpoint;
    }

    private async Task ForwardAsync(Stream client, HttpRequestHead head, byte[] leftover, string boxId, EgressPolicy policy, string host, int port, IPEndPoint endpoint, bool tls, CancellationToken cancellationToken)
    {
        IReadOnlyList<KeyValuePair<string, string>> injected;
        try
        {
            injected = policy.HeadersFor(host, endpoint.Address, head.Target, secrets);
        }
        catch (EgressSecretMissingException ex)
        {
            await RespondAsync(client, 502, "Bad Gateway", ex.Message, cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (var (name, value) in injected)
        {
            head.Set(name, value);
        }

        head.Remove("Proxy-Connection");
        head.Remove("Proxy-Authorization");
        head.Set("Connection", "close");
        var defaultPort = tls ? 443 : 80;
        if (head["Host"] is null)
        {
            head.Set("Host", port == defaultPort ? host : host + ":" + port.ToString(CultureInfo.InvariantCulture));
        }

        LogForwarded(logger, boxId, head.Method, host, port, injected.Count);
        Stream upstream;
        try
        {
            upstream = await EgressUpstreamDialer.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            if (tls)
            {
                upstream = await dialer.AuthenticateAsync(upstream, host, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or AuthenticationException)
        {
            await RespondAsync(client, 502, "Bad Gateway", $"The sandbox egress proxy could not reach {host}:{port}: {ex.Message}", cancellationToken).ConfigureAwait(false);
            return;
        }

        await using (upstream.ConfigureAwait(false))
        {
            await upstream.WriteAsync(head.ToBytes(), cancellationToken).ConfigureAwait(false);
            await upstream.WriteAsync(leftover, cancellationToken).ConfigureAwait(false);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var up = client.CopyToAsync(upstream, done.Token);
            await upstream.CopyToAsync(client, done.Token).ConfigureAwait(false);
            await client.FlushAsync(cancellationToken).ConfigureAwait(false);
            await done.CancelAsync().ConfigureAwait(false);
            try
            {
                await up.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
                // The response is complete; the request side is no longer needed.
            }
        }

        if (client is SslStream ssl)
        {
            try
            {
                await ssl.ShutdownAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The box already closed its side.
            }
        }
    }

    private static async Task<(HttpRequestHead? Head, byte[] Leftover)> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HeadTimeout);
        return await HttpRequestHead.ReadAsync(stream, timeout.Token).ConfigureAwait(false);
    }

    private static bool TrySplitAuthority(string authority, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = authority.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(authority.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
        {
            return false;
        }

        host = authority[..colon].Trim('[', ']');
        return host.Length > 0;
    }

    private static async Task RespondAsync(Stream client, int status, string reason, string message, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(message + "\n");
        var head = $"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\nX-Sandbox-Egress: {(status == 403 ? "blocked" : "error")}\r\n\r\n";
        await client.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        await client.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        await client.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 5400, Level = LogLevel.Information, Message = "Egress from box {BoxId} to {Host} blocked: {Reason}")]
    private static partial void LogBlocked(ILogger logger, string boxId, string host, string reason);

    [LoggerMessage(EventId = 5401, Level = LogLevel.Debug, Message = "Egress from box {BoxId}: {Method} {Host}:{Port} ({Injected} injected headers)")]
    private static partial void LogForwarded(ILogger logger, string boxId, string method, string host, int port, int injected);

    [LoggerMessage(EventId = 5402, Level = LogLevel.Debug, Message = "Egress connection of box {BoxId} ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string boxId, string reason);
}
