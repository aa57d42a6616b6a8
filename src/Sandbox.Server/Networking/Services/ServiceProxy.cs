using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Sandbox.Server.Networking.Services;

/// <summary>
/// A small reverse proxy to a port inside a box's network namespace (YARP is not available to this project): streams
/// bodies both ways, copies headers minus hop-by-hop ones, strips the service credential, sets <c>X-Forwarded-*</c>,
/// and relays WebSocket upgrades as a raw duplex byte copy.
/// </summary>
internal sealed partial class ServiceProxy : IDisposable
{
    /// <summary>Header carrying a service token (delta §7.1).</summary>
    public const string TokenHeader = "X-Langsmith-Sandbox-Service-Token";

    private static readonly HttpRequestOptionsKey<string> NamespaceKey = new("sandbox.netns");

    /// <summary>
    /// Credentials of this server or of its caller that must never reach code in a box: the API key, any
    /// Authorization header (it may carry the key or another bearer credential) and the service token.
    /// </summary>
    private static readonly HashSet<string> Credentials = new(StringComparer.OrdinalIgnoreCase)
    {
        "X-Api-Key", "Authorization", "Proxy-Authorization", TokenHeader,
    };

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host",
    };

    private readonly NetworkNamespaceSocketFactory _sockets;
    private readonly HttpMessageInvoker _invoker;
    private readonly ILogger<ServiceProxy> _logger;

    public ServiceProxy(NetworkNamespaceSocketFactory sockets, ILogger<ServiceProxy> logger)
    {
        _sockets = sockets;
        _logger = logger;
        _invoker = new HttpMessageInvoker(
            new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(10),
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(15),
                ActivityHeadersPropagator = null,
                ConnectCallback = ConnectAsync,
            },
            disposeHandler: true);
    }

    /// <summary>Forwards the request to <c>127.0.0.1:<paramref name="port"/></c> inside the box.</summary>
    public async Task ForwardAsync(HttpContext context, string namespacePath, string boxId, int port, string pathBase, string path, IReadOnlyList<string> embedOrigins)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is { IsUpgradableRequest: true }
            && context.Request.Headers.Upgrade.Any(u => string.Equals(u, "websocket", StringComparison.OrdinalIgnoreCase)))
        {
            await RelayUpgradeAsync(context, upgrade, namespacePath, boxId, port, pathBase, path).ConfigureAwait(false);
            return;
        }

        var uri = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{ConnectionKey(boxId, namespacePath)}:{port}{path}{context.Request.QueryString}"));
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), uri)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Options.Set(NamespaceKey, namespacePath);
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.ContentLength > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        foreach (var (name, values) in ForwardedRequestHeaders(context, pathBase))
        {
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(request, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or SocketException && !context.RequestAborted.IsCancellationRequested)
        {
            await WriteUnreachableAsync(context, boxId, port, ex).ConfigureAwait(false);
            return;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            CopyResponseHeaders(response.Headers, context.Response, pathBase);
            CopyResponseHeaders(response.Content.Headers, context.Response, pathBase);
            AddFramePolicy(context.Response, embedOrigins);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var body = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                try
                {
                    await body.CopyToAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
                {
                    // The service or the browser went away mid-body: abort so the client sees a truncated response.
                    context.Abort();
                }
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _invoker.Dispose();

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        if (!context.InitialRequestMessage.Options.TryGetValue(NamespaceKey, out var namespacePath))
        {
            throw new InvalidOperationException("Service proxy request without a box namespace.");
        }

        var socket = await _sockets.ConnectLoopbackAsync(namespacePath, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
        return new NetworkStream(socket, ownsSocket: true);
    }

    private static string ConnectionKey(string boxId, string namespacePath)
        => "b" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(boxId + "\n" + namespacePath)))[..24] + ".box";

    private static IEnumerable<KeyValuePair<string, StringValues>> ForwardedRequestHeaders(HttpContext context, string pathBase)
    {
        var request = context.Request;
        foreach (var header in request.Headers)
        {
            if (HopByHop.Contains(header.Key)
                || Credentials.Contains(header.Key)
                || header.Key.StartsWith("X-Langsmith-User-", StringComparison.OrdinalIgnoreCase)
                || header.Key.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (string.Equals(header.Key, "Cookie", StringComparison.OrdinalIgnoreCase))
            {
                var kept = StripServiceCookies(header.Value);
                if (kept.Length > 0)
                {
                    yield return new("Cookie", kept);
                }

                continue;
            }

            yield return header;
        }

        yield return new("Host", request.Host.Value);
        var remote = context.Connection.RemoteIpAddress?.ToString();
        if (remote is not null)
        {
            var prior = request.Headers["X-Forwarded-For"].ToString();
            yield return new("X-Forwarded-For", string.IsNullOrEmpty(prior) ? remote : prior + ", " + remote);
        }

        yield return new("X-Forwarded-Proto", request.Scheme);
        yield return new("X-Forwarded-Host", request.Host.Value);
        if (pathBase.Length > 0)
        {
            yield return new("X-Forwarded-Prefix", pathBase);
        }
    }

    /// <summary>Removes the server's own cookies (service router and web console) from a Cookie header.</summary>
    internal static string StripServiceCookies(StringValues cookieHeaders)
    {
        var kept = new List<string>();
        foreach (var header in cookieHeaders)
        {
            foreach (var part in (header ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var name = part.Split('=', 2)[0];
                if (name is not (ServiceCookies.TokenCookie or ServiceCookies.LoginCookie
                    or WebConsole.ConsoleSessions.CookieName or WebConsole.ConsoleSessions.MarkerCookieName))
                {
                    kept.Add(part);
                }
            }
        }

        return string.Join("; ", kept);
    }

    private static void CopyResponseHeaders(System.Net.Http.Headers.HttpHeaders headers, HttpResponse response, string pathBase)
    {
        foreach (var (name, values) in headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            var array = values.ToArray();
            if (pathBase.Length > 0 && string.Equals(name, "Location", StringComparison.OrdinalIgnoreCase))
            {
                array = [.. array.Select(v => v.StartsWith('/') && !v.StartsWith("//", StringComparison.Ordinal) ? pathBase + v : v)];
            }

            response.Headers[name] = array;
        }
    }

    private static void AddFramePolicy(HttpResponse response, IReadOnlyList<string> embedOrigins)
        => response.Headers.Append("Content-Security-Policy", "frame-ancestors 'self'" + string.Concat(embedOrigins.Select(o => " " + o)));

    private Task WriteUnreachableAsync(HttpContext context, string boxId, int port, Exception ex)
    {
        LogUnreachable(_logger, boxId, port, ex.GetBaseException().Message);
        var refused = ex.GetBaseException() is SocketException { SocketErrorCode: SocketError.ConnectionRefused };
        var message = refused
            ? $"Nothing is listening on port {port} inside sandbox {boxId}. Start the service (bind it to 127.0.0.1 or 0.0.0.0) and reload."
            : $"The service on port {port} inside sandbox {boxId} could not be reached: {ex.GetBaseException().Message}";
        return ServiceErrorPages.WriteAsync(context, StatusCodes.Status502BadGateway, "ServiceUnreachable", "Service not reachable", message);
    }

    private async Task RelayUpgradeAsync(HttpContext context, IHttpUpgradeFeature upgrade, string namespacePath, string boxId, int port, string pathBase, string path)
    {
        Socket socket;
        try
        {
            socket = await _sockets.ConnectLoopbackAsync(namespacePath, port, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            await WriteUnreachableAsync(context, boxId, port, ex).ConfigureAwait(false);
            return;
        }

        await using var backend = new NetworkStream(socket, ownsSocket: true);
        var head = new StringBuilder();
        head.Append(CultureInfo.InvariantCulture, $"{context.Request.Method} {path}{context.Request.QueryString} HTTP/1.1\r\n");
        foreach (var (name, values) in ForwardedRequestHeaders(context, pathBase))
        {
            foreach (var value in values)
            {
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        head.Append("Connection: Upgrade\r\n");
        foreach (var value in context.Request.Headers.Upgrade)
        {
            head.Append("Upgrade: ").Append(value).Append("\r\n");
        }

        head.Append("\r\n");
        await backend.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()), context.RequestAborted).ConfigureAwait(false);

        var (status, headers, leftover) = await ReadResponseHeadAsync(backend, context.RequestAborted).ConfigureAwait(false);
        if (status == 0)
        {
            await ServiceErrorPages.WriteAsync(context, StatusCodes.Status502BadGateway, "ServiceUnreachable", "Service not reachable", $"The service on port {port} sent no valid HTTP response.").ConfigureAwait(false);
            return;
        }

        foreach (var (name, value) in headers)
        {
            if (!string.Equals(name, "Connection", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(name, "Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers.Append(name, value);
            }
        }

        if (status != StatusCodes.Status101SwitchingProtocols)
        {
            context.Response.StatusCode = status;
            await context.Response.Body.WriteAsync(leftover, context.RequestAborted).ConfigureAwait(false);
            var length = context.Response.ContentLength;
            if (length is null || length > leftover.Length)
            {
                await CopyAtMostAsync(backend, context.Response.Body, length is null ? long.MaxValue : length.Value - leftover.Length, context.RequestAborted).ConfigureAwait(false);
            }

            return;
        }

        var client = await upgrade.UpgradeAsync().ConfigureAwait(false);
        await client.WriteAsync(leftover, context.RequestAborted).ConfigureAwait(false);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var up = client.CopyToAsync(backend, done.Token);
        var down = backend.CopyToAsync(client, done.Token);
        try
        {
            await Task.WhenAny(up, down).ConfigureAwait(false);
        }
        finally
        {
            await done.CancelAsync().ConfigureAwait(false);
            socket.Close();
            try
            {
                await Task.WhenAll(up, down).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // One side closed; the relay is over.
            }
        }
    }

    private static async Task CopyAtMostAsync(Stream source, Stream destination, long limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (limit > 0)
        {
            var n = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit)), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }

            await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            limit -= n;
        }
    }

    /// <summary>Reads an HTTP/1.1 response head (at most 64 KiB); status 0 when it is malformed.</summary>
    private static async Task<(int Status, List<KeyValuePair<string, string>> Headers, byte[] Leftover)> ReadResponseHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        int end;
        while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == buffer.Length)
            {
                return (0, [], []);
            }

            var n = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return (0, [], []);
            }

            filled += n;
        }

        var lines = Encoding.Latin1.GetString(buffer, 0, end).Split("\r\n");
        var statusParts = lines[0].Split(' ', 3);
        if (statusParts.Length < 2 || !int.TryParse(statusParts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            return (0, [], []);
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }
        }

        return (status, headers, buffer[(end + 4)..filled]);
    }

    [LoggerMessage(EventId = 5300, Level = LogLevel.Information, Message = "Service on port {Port} of box {BoxId} not reachable: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string boxId, int port, string reason);
}
