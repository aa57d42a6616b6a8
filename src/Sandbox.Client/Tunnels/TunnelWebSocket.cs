using System.Net.WebSockets;

namespace Sandbox.Client.Tunnels;

/// <summary>Opens the tunnel WebSocket of a sandbox (spec 8.6.1).</summary>
internal static class TunnelWebSocket
{
    /// <summary>
    /// The tunnel URL: the data-plane URL with one trailing <c>/</c> removed, <c>http</c>→<c>ws</c> and
    /// <c>https</c>→<c>wss</c>, plus <c>/tunnel</c>.
    /// </summary>
    public static Uri GetUrl(string dataplaneUrl)
    {
        var trimmed = dataplaneUrl.EndsWith('/') ? dataplaneUrl[..^1] : dataplaneUrl;
        var builder = new UriBuilder(trimmed + "/tunnel");
        builder.Scheme = builder.Scheme switch
        {
            "https" => "wss",
            "http" => "ws",
            var other => other,
        };
        if (builder.Uri.IsDefaultPort)
        {
            builder.Port = -1;
        }

        return builder.Uri;
    }

    /// <summary>
    /// Connects with <c>X-Api-Key</c> (when set) and the per-call headers only; WebSocket keep-alive pings are off
    /// because yamux pings are used instead.
    /// </summary>
    public static async Task<Stream> ConnectAsync(
        Uri url,
        string? apiKey,
        IReadOnlyDictionary<string, string>? headers,
        TimeSpan openTimeout,
        HttpMessageInvoker? invoker,
        CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        try
        {
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            if (!string.IsNullOrEmpty(apiKey))
            {
                socket.Options.SetRequestHeader("X-Api-Key", apiKey);
            }

            foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            {
                socket.Options.SetRequestHeader(name, value);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(openTimeout);
            try
            {
                await socket.ConnectAsync(url, invoker, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TunnelException($"tunnel: the WebSocket to {url.GetLeftPart(UriPartial.Path)} did not open within {openTimeout.TotalSeconds:0} s.");
            }

            return new WebSocketByteStream(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
