using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;

namespace Sandbox.Server.Networking.Services;

/// <summary>
/// The reverse proxy to a port inside a box's network namespace: YARP's <see cref="IHttpForwarder"/> over a
/// <see cref="SocketsHttpHandler"/> whose connections are dialled inside the box (HTTP and WebSocket upgrades, bodies
/// streamed both ways). <see cref="ServiceTransformer"/> strips the service credential, sets <c>X-Forwarded-*</c>,
/// rewrites <c>Location</c> under a path prefix and adds the frame policy.
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

    // No idle limit of our own: a long poll or a quiet event stream stays open as long as both ends keep it.
    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        ActivityTimeout = Timeout.InfiniteTimeSpan,
    };

    private readonly IHttpForwarder _forwarder;
    private readonly NetworkNamespaceSocketFactory _sockets;
    private readonly HttpMessageInvoker _invoker;
    private readonly ILogger<ServiceProxy> _logger;

    public ServiceProxy(IHttpForwarder forwarder, NetworkNamespaceSocketFactory sockets, ILogger<ServiceProxy> logger)
    {
        _forwarder = forwarder;
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
        // The host name keys the connection pool: one pool per box and namespace, never shared between boxes.
        var destination = string.Create(CultureInfo.InvariantCulture, $"http://{ConnectionKey(boxId, namespacePath)}:{port}");
        var transformer = new ServiceTransformer(namespacePath, pathBase, path, embedOrigins);
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var error = await _forwarder.SendAsync(context, destination, _invoker, RequestConfig, transformer).ConfigureAwait(false);
        if (error is ForwarderError.Request or ForwarderError.RequestTimedOut or ForwarderError.UpgradeRequestDestination
            && !context.Response.HasStarted
            && !context.RequestAborted.IsCancellationRequested)
        {
            var exception = context.GetForwarderErrorFeature()?.Exception;
            await WriteUnreachableAsync(context, boxId, port, exception).ConfigureAwait(false);
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

    private Task WriteUnreachableAsync(HttpContext context, string boxId, int port, Exception? ex)
    {
        var reason = ex?.GetBaseException().Message ?? "no response";
        LogUnreachable(_logger, boxId, port, reason);
        context.Response.Headers.Clear();
        var refused = ex?.GetBaseException() is SocketException { SocketErrorCode: SocketError.ConnectionRefused };
        var message = refused
            ? $"Nothing is listening on port {port} inside sandbox {boxId}. Start the service (bind it to 127.0.0.1 or 0.0.0.0) and reload."
            : $"The service on port {port} inside sandbox {boxId} could not be reached: {reason}";
        return ServiceErrorPages.WriteAsync(context, StatusCodes.Status502BadGateway, "ServiceUnreachable", "Service not reachable", message);
    }

    [LoggerMessage(EventId = 5300, Level = LogLevel.Information, Message = "Service on port {Port} of box {BoxId} not reachable: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string boxId, int port, string reason);

    /// <summary>What a forwarded request and its response gain and lose on the way through the router.</summary>
    private sealed class ServiceTransformer(string namespacePath, string pathBase, string path, IReadOnlyList<string> embedOrigins) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            var request = httpContext.Request;
            proxyRequest.RequestUri = new Uri(destinationPrefix + path + request.QueryString);
            proxyRequest.Options.Set(NamespaceKey, namespacePath);

            var headers = proxyRequest.Headers;
            foreach (var name in headers.Select(h => h.Key).ToList())
            {
                if (Credentials.Contains(name)
                    || name.StartsWith("X-Langsmith-User-", StringComparison.OrdinalIgnoreCase)
                    || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase)
                    || string.Equals(name, "Cookie", StringComparison.OrdinalIgnoreCase))
                {
                    headers.Remove(name);
                }
            }

            var cookies = StripServiceCookies(request.Headers.Cookie);
            if (cookies.Length > 0)
            {
                headers.TryAddWithoutValidation("Cookie", cookies);
            }

            headers.Host = request.Host.Value;
            if (httpContext.Connection.RemoteIpAddress?.ToString() is { } remote)
            {
                var prior = request.Headers["X-Forwarded-For"].ToString();
                headers.TryAddWithoutValidation("X-Forwarded-For", string.IsNullOrEmpty(prior) ? remote : prior + ", " + remote);
            }

            headers.TryAddWithoutValidation("X-Forwarded-Proto", request.Scheme);
            headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);
            if (pathBase.Length > 0)
            {
                headers.TryAddWithoutValidation("X-Forwarded-Prefix", pathBase);
            }
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            var proceed = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
            if (proxyResponse is null || proxyResponse.StatusCode == HttpStatusCode.SwitchingProtocols)
            {
                return proceed;
            }

            var response = httpContext.Response;
            if (pathBase.Length > 0 && response.Headers.Location is { Count: > 0 } locations)
            {
                response.Headers.Location = new StringValues([.. locations.Select(v => v is not null && v.StartsWith('/') && !v.StartsWith("//", StringComparison.Ordinal) ? pathBase + v : v)]);
            }

            response.Headers.Append("Content-Security-Policy", "frame-ancestors 'self'" + string.Concat(embedOrigins.Select(o => " " + o)));
            return proceed;
        }
    }
}
