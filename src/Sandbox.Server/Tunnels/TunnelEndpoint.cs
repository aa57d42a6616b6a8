using Sandbox.Protocol;
using Sandbox.Server.Networking;

namespace Sandbox.Server.Tunnels;

/// <summary>The data-plane WebSocket endpoint <c>GET /dp/{id}/tunnel</c> carrying a yamux session (spec 8.6).</summary>
internal sealed partial class TunnelEndpoint(
    IBoxNetworkDirectory boxes,
    NetworkNamespaceSocketFactory sockets,
    IHostApplicationLifetime lifetime,
    ILogger<TunnelEndpoint> logger)
{
    /// <summary>Handles one upgrade request for the box <paramref name="boxId"/>.</summary>
    public async Task HandleAsync(HttpContext context, string boxId)
    {
        var box = await boxes.FindAsync(boxId, context.RequestAborted).ConfigureAwait(false);
        if (box is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "NotFound", $"Sandbox '{boxId}' not found.").ConfigureAwait(false);
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "BadRequest", "The tunnel endpoint requires a WebSocket upgrade.").ConfigureAwait(false);
            return;
        }

        if (box.NetworkNamespacePath is null)
        {
            box = await boxes.EnsureRunningAsync(box.Id, context.RequestAborted).ConfigureAwait(false);
        }

        if (box?.NetworkNamespacePath is not { } namespacePath)
        {
            await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable", $"Sandbox is starting: {boxId}").ConfigureAwait(false);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.Zero }).ConfigureAwait(false);
        LogTunnelOpened(logger, box.Id);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var activeId = box.Id;
        var server = new TunnelStreamServer(
            (port, ct) =>
            {
                boxes.MarkActive(activeId);
                return sockets.ConnectLoopbackAsync(namespacePath, port, ct);
            },
            logger);
        await server.RunAsync(new WebSocketByteStream(socket), stop.Token).ConfigureAwait(false);
        LogTunnelClosed(logger, box.Id);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string error, string message)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(ErrorResponse.Structured(error, message), SandboxJson.Options);
    }

    [LoggerMessage(EventId = 5201, Level = LogLevel.Information, Message = "Tunnel session opened for box {BoxId}")]
    private static partial void LogTunnelOpened(ILogger logger, string boxId);

    [LoggerMessage(EventId = 5202, Level = LogLevel.Information, Message = "Tunnel session closed for box {BoxId}")]
    private static partial void LogTunnelClosed(ILogger logger, string boxId);
}
