using System.Net.Sockets;
using Sandbox.Protocol;

namespace Sandbox.Server.Tunnels;

/// <summary>
/// Serves the streams of one yamux tunnel session (spec 8.6.3): reads the 3-byte connect header, dials the port in
/// the box, answers one status byte, then copies bytes both ways with half-close.
/// </summary>
internal sealed partial class TunnelStreamServer(Func<int, CancellationToken, Task<Socket>> dial, ILogger logger)
{
    /// <summary>Connected.</summary>
    public const byte StatusOk = 0x00;

    /// <summary>Port not allowed.</summary>
    public const byte StatusPortNotAllowed = 0x01;

    /// <summary>Dial failed.</summary>
    public const byte StatusDialFailed = 0x02;

    /// <summary>Unsupported connect-header version.</summary>
    public const byte StatusUnsupportedVersion = 0x03;

    private static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs the session until it ends, serving every stream the client opens concurrently.</summary>
    public async Task RunAsync(Stream transport, CancellationToken cancellationToken)
    {
        var session = YamuxSession.StartServer(transport);
        var active = new List<Task>();
        try
        {
            while (await session.AcceptStreamAsync(cancellationToken).ConfigureAwait(false) is { } stream)
            {
                active.RemoveAll(static t => t.IsCompleted);
                active.Add(ServeStreamAsync(stream, cancellationToken));
            }
        }
        catch (OperationCanceledException)
        {
            // Server shutdown: Go Away below.
        }
        finally
        {
            await session.CloseAsync().ConfigureAwait(false);
            await Task.WhenAll(active).ConfigureAwait(false);
        }
    }

    private async Task ServeStreamAsync(YamuxStream stream, CancellationToken cancellationToken)
    {
        await Task.Yield();
        Socket? socket = null;
        try
        {
            var header = new byte[3];
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(HeaderTimeout);
                await stream.ReadExactlyAsync(header, timeout.Token).ConfigureAwait(false);
            }

            var port = (header[1] << 8) | header[2];
            if (header[0] != 0x01)
            {
                await RefuseAsync(stream, StatusUnsupportedVersion).ConfigureAwait(false);
                return;
            }

            if (port == 0)
            {
                await RefuseAsync(stream, StatusPortNotAllowed).ConfigureAwait(false);
                return;
            }

            try
            {
                socket = await dial(port, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                LogDialFailed(logger, port, ex.Message);
                await RefuseAsync(stream, StatusDialFailed).ConfigureAwait(false);
                return;
            }

            await stream.WriteAsync(new[] { StatusOk }, cancellationToken).ConfigureAwait(false);
            await TunnelPump.RunAsync(stream, socket, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or EndOfStreamException)
        {
            // The stream was reset or the session ended; the socket is closed below.
        }
        finally
        {
            socket?.Dispose();
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task RefuseAsync(YamuxStream stream, byte status)
    {
        await stream.WriteAsync(new[] { status }).ConfigureAwait(false);
        await stream.CloseWriteAsync().ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 5200, Level = LogLevel.Debug, Message = "Tunnel dial to port {Port} in the box failed: {Reason}")]
    private static partial void LogDialFailed(ILogger logger, int port, string reason);
}
