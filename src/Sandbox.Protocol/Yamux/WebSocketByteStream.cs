using System.Net.WebSockets;

namespace Sandbox.Protocol;

/// <summary>
/// Presents a WebSocket as a byte stream for yamux (spec 8.6.1): reads treat the message sequence as one byte stream
/// (frames may span messages; text messages contribute their UTF-8 bytes); each write is one binary message.
/// </summary>
/// <remarks>Writes are serialized, so concurrent writers never interleave inside a message.</remarks>
public sealed class WebSocketByteStream : DuplexStream
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private int _disposed;

    /// <summary>Wraps <paramref name="socket"/>; the stream owns it from here on.</summary>
    public WebSocketByteStream(WebSocket socket) => _socket = socket;

    /// <summary>The underlying socket.</summary>
    public WebSocket Socket => _socket;

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseSent))
            {
                return 0;
            }

            ValueWebSocketReceiveResult result;
            try
            {
                result = await _socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or IOException
                || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                return 0;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return 0;
            }

            if (result.Count > 0)
            {
                return result.Count;
            }
        }
    }

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(buffer, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A broken connection surfaces as a cancellation wrapping the socket error; it is an I/O failure here.
            throw new IOException("The tunnel WebSocket is closed.", ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Best effort: the peer may already be gone.
        }
        finally
        {
            _socket.Abort();
            _socket.Dispose();
            _sendLock.Dispose();
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Abort();
            _socket.Dispose();
            _sendLock.Dispose();
        }

        base.Dispose(disposing);
    }
}
