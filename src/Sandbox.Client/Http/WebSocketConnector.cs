using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// Opens client WebSockets through the injectable HTTP handler with a hand-made RFC 6455 upgrade, so a rejected upgrade's
/// status, <c>Retry-After</c> and JSON body (<c>detail.message</c>, <c>detail.error_id</c>) can be mapped exactly as spec
/// §8.5.1 and delta §6.6 require (<see cref="ClientWebSocket"/> does not expose the body).
/// </summary>
internal static class WebSocketConnector
{
    private const int MaxErrorBodyBytes = 16 * 1024;

    /// <summary>Maps a data-plane URL to its WebSocket form (spec §8.1): the first <c>https://</c> becomes <c>wss://</c>,
    /// then the first <c>http://</c> becomes <c>ws://</c>, and <paramref name="path"/> is appended.</summary>
    public static Uri ToWebSocketUri(string dataplaneUrl, string path, bool trimTrailingSlashes = false)
    {
        var text = trimTrailingSlashes ? dataplaneUrl.TrimEnd('/') : dataplaneUrl;
        var https = text.IndexOf("https://", StringComparison.Ordinal);
        if (https >= 0)
        {
            text = string.Concat(text.AsSpan(0, https), "wss://", text.AsSpan(https + "https://".Length));
        }

        var http = text.IndexOf("http://", StringComparison.Ordinal);
        if (http >= 0)
        {
            text = string.Concat(text.AsSpan(0, http), "ws://", text.AsSpan(http + "http://".Length));
        }

        return new Uri(text + path);
    }

    public static async Task<WebSocket> ConnectAsync(
        SandboxRuntime runtime,
        Uri webSocketUri,
        IEnumerable<KeyValuePair<string, string>> headers,
        TimeSpan openTimeout,
        bool keepAlive,
        CancellationToken cancellationToken)
    {
        var builder = new UriBuilder(webSocketUri)
        {
            Scheme = webSocketUri.Scheme == "wss" ? Uri.UriSchemeHttps : webSocketUri.Scheme == "ws" ? Uri.UriSchemeHttp : webSocketUri.Scheme,
        };
        var display = SandboxRuntime.Redact(webSocketUri);
        using var request = new HttpRequestMessage(HttpMethod.Get, builder.Uri)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
        request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", key);
        foreach (var header in headers)
        {
            request.Headers.Remove(header.Key);
            request.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        using var openCts = openTimeout > TimeSpan.Zero
            ? new CancellationTokenSource(openTimeout, runtime.Time)
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, openCts.Token);
        HttpResponseMessage response;
        try
        {
            response = await runtime.SocketInvoker.SendAsync(request, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SandboxConnectTimeoutException(
                $"Timed out after {openTimeout.TotalSeconds:0.###}s opening WebSocket connection to {display}", ex);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded)
        {
            throw new SandboxConnectionException(
                $"WebSocket connection to {display} failed: no valid HTTP response from the server; the sandbox may be stopped or unreachable", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new SandboxConnectTimeoutException($"Failed to open WebSocket connection to {display}: {ex.Message}", ex);
        }

        try
        {
            if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
            {
                throw await RejectionAsync(response, display, linked.Token).ConfigureAwait(false);
            }

            var accept = response.Headers.TryGetValues("Sec-WebSocket-Accept", out var values) ? values.FirstOrDefault() : null;
            var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
            if (accept != expected)
            {
                throw new SandboxConnectionException($"WebSocket connection to {display} failed: invalid Sec-WebSocket-Accept header");
            }

            var stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
            return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions
            {
                IsServer = false,
                KeepAliveInterval = keepAlive && runtime.Options.WebSocketPingInterval > TimeSpan.Zero
                    ? runtime.Options.WebSocketPingInterval
                    : TimeSpan.Zero,
                KeepAliveTimeout = keepAlive && runtime.Options.WebSocketPingTimeout > TimeSpan.Zero
                    ? runtime.Options.WebSocketPingTimeout
                    : Timeout.InfiniteTimeSpan,
            });
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static async Task<SandboxConnectionException> RejectionAsync(HttpResponseMessage response, string display, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        if (status == 404)
        {
            return new SandboxConnectionException(
                $"Server does not support WebSocket execution: {display} returned 404 (HTTP 404)") { StatusCode = 404 };
        }

        if (status is 429 or 500 or 502 or 503 or 504)
        {
            var (message, errorId) = await ReadDetailAsync(response, cancellationToken).ConfigureAwait(false);
            var text = $"WebSocket upgrade to {display} rejected by server (HTTP {status})";
            if (!string.IsNullOrEmpty(message))
            {
                text += ": " + message + (string.IsNullOrEmpty(errorId) ? "" : $" (error_id={errorId})");
            }

            return new SandboxRetryableConnectionException(text)
            {
                StatusCode = status,
                ErrorId = errorId,
                RetryAfter = RetryAfter(response),
            };
        }

        return new SandboxConnectionException($"WebSocket upgrade to {display} rejected by server (HTTP {status})") { StatusCode = status };
    }

    /// <summary>Only non-negative delta-seconds are honoured (delta §6.6); an HTTP-date or garbage is ignored.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.NonValidated.TryGetValues("Retry-After", out var values)
            && double.TryParse(values.FirstOrDefault(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            && seconds >= 0 && !double.IsInfinity(seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return null;
    }

    /// <summary>Reads at most 16 KiB of a rejection body and extracts <c>detail.message</c>/<c>detail.error_id</c>; a
    /// non-JSON body is never echoed.</summary>
    private static async Task<(string? Message, string? ErrorId)> ReadDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxErrorBodyBytes];
            var total = 0;
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            var body = ErrorResponse.Parse(buffer.AsMemory(0, total));
            if (body.Detail.ValueKind == JsonValueKind.Object)
            {
                return (body.Message, body.ErrorId);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
        }

        return (null, null);
    }
}
