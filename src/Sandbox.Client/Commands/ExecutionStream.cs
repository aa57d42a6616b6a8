using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>How an execution socket ended.</summary>
internal enum StreamEnd
{
    None,
    Clean,
    GoingAway,
    Failed,
}

/// <summary>One item read from an execution socket: a frame, or the end of the stream.</summary>
internal readonly record struct StreamItem(ExecutionServerFrame? Frame, StreamEnd End, SandboxConnectionException? Error);

/// <summary>
/// One <c>/execute/ws</c> socket: a single receive loop parses JSON frames into a bounded channel (back-pressure instead of
/// unbounded buffering); sends are serialized (one outstanding send).
/// </summary>
internal sealed class ExecutionStream : IAsyncDisposable
{
    private const int MaxFrameBytes = 16 * 1024 * 1024;

    private readonly WebSocket _socket;
    private readonly TimeSpan _closeTimeout;
    private readonly Channel<StreamItem> _items = Channel.CreateBounded<StreamItem>(new BoundedChannelOptions(64)
    {
        SingleReader = true,
        SingleWriter = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiveLoop;
    private int _disposed;

    public ExecutionStream(WebSocket socket, TimeSpan closeTimeout)
    {
        _socket = socket;
        _closeTimeout = closeTimeout;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    public bool IsOpen => Volatile.Read(ref _disposed) == 0 && _socket.State == WebSocketState.Open;

    public async ValueTask<StreamItem> ReadAsync(CancellationToken cancellationToken)
    {
        if (await _items.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false) && _items.Reader.TryRead(out var item))
        {
            return item;
        }

        return new StreamItem(null, StreamEnd.Failed, new SandboxConnectionException("Execution stream is closed"));
    }

    /// <summary>Sends one frame; returns false (sending nothing) when the socket is no longer open.</summary>
    public async Task<bool> SendAsync(ExecutionClientFrame frame, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(frame, SandboxJson.Options);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!IsOpen)
            {
                return false;
            }

            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException)
        {
            throw new SandboxConnectionException($"Failed to send '{frame.Type}' frame: the connection closed unexpectedly", ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var message = new ArrayBufferWriter<byte>();
        StreamItem end;
        try
        {
            while (true)
            {
                message.Clear();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(), _stop.Token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    if (message.WrittenCount + result.Count > MaxFrameBytes)
                    {
                        throw new WebSocketException(WebSocketError.Faulted, "execution frame exceeds 16 MiB");
                    }

                    message.Write(buffer.AsSpan(0, result.Count));
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    end = Classify(_socket.CloseStatus, _socket.CloseStatusDescription);
                    await ReplyCloseAsync().ConfigureAwait(false);
                    break;
                }

                ExecutionServerFrame? frame;
                try
                {
                    frame = JsonSerializer.Deserialize<ExecutionServerFrame>(message.WrittenSpan, SandboxJson.Options);
                }
                catch (JsonException ex)
                {
                    end = new StreamItem(null, StreamEnd.Failed, new SandboxConnectionException("Execution stream sent a malformed frame", ex));
                    break;
                }

                if (frame is not null)
                {
                    await _items.Writer.WriteAsync(new StreamItem(frame, StreamEnd.None, null), _stop.Token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            end = new StreamItem(null, StreamEnd.Failed, new SandboxConnectionException("Execution stream was closed by the client"));
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            end = new StreamItem(null, StreamEnd.Failed, new SandboxConnectionException($"Execution stream closed unexpectedly: {ex.Message}", ex));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        _items.Writer.TryWrite(end);
        _items.Writer.TryComplete();
    }

    /// <summary>1000 and "no status" end cleanly; 1001 is the server reloading; anything else is a failure (spec §8.5.8).</summary>
    private static StreamItem Classify(WebSocketCloseStatus? status, string? description) => status switch
    {
        null or WebSocketCloseStatus.NormalClosure or WebSocketCloseStatus.Empty => new StreamItem(null, StreamEnd.Clean, null),
        WebSocketCloseStatus.EndpointUnavailable => new StreamItem(null, StreamEnd.GoingAway, null),
        _ => new StreamItem(null, StreamEnd.Failed, new SandboxConnectionException(
            $"Execution stream closed unexpectedly (code {(int)status}{(string.IsNullOrEmpty(description) ? "" : ": " + description)})")),
    };

    private async Task ReplyCloseAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(_closeTimeout > TimeSpan.Zero ? _closeTimeout : TimeSpan.FromSeconds(10));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
        }
    }

    /// <summary>Closes the socket with <paramref name="status"/> (1000 after exit, 1011 when abandoning) and stops the loop.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status)
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var closeTimeout = _closeTimeout > TimeSpan.Zero ? _closeTimeout : TimeSpan.FromSeconds(10);

        // A send stuck on a full socket must not block the close: after the close timeout, abort instead.
        if (await _sendLock.WaitAsync(closeTimeout).ConfigureAwait(false))
        {
            try
            {
                if (_socket.State == WebSocketState.Open)
                {
                    using var timeout = new CancellationTokenSource(closeTimeout);
                    await _socket.CloseOutputAsync(status, null, timeout.Token).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
            {
            }
            finally
            {
                _sendLock.Release();
            }
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Abort();
        try
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _socket.Dispose();
        _stop.Dispose();
    }

    public ValueTask DisposeAsync() => new(CloseAsync(WebSocketCloseStatus.NormalClosure));
}
