using System.Net.Sockets;

namespace Sandbox.Protocol;

/// <summary>Copies bytes between a yamux stream and a TCP socket in both directions, with half-close.</summary>
public static class TunnelPump
{
    private const int BufferSize = 64 * 1024;

    /// <summary>
    /// Runs until both directions have ended. The socket's end-of-stream sends FIN on the yamux stream; the yamux
    /// stream's FIN shuts down the socket's sending side; an error (reset, broken socket) ends both directions.
    /// </summary>
    public static async Task RunAsync(YamuxStream stream, Socket socket, CancellationToken cancellationToken)
    {
        using var network = new NetworkStream(socket, ownsSocket: false);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        async Task SocketToStreamAsync()
        {
            try
            {
                await network.CopyToAsync(stream, BufferSize, failed.Token).ConfigureAwait(false);
                await stream.CloseWriteAsync(failed.Token).ConfigureAwait(false);
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        async Task StreamToSocketAsync()
        {
            try
            {
                await stream.CopyToAsync(network, BufferSize, failed.Token).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Send);
            }
            catch
            {
                await failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }

        await Task.WhenAll(SocketToStreamAsync(), StreamToSocketAsync()).ConfigureAwait(false);
    }
}
