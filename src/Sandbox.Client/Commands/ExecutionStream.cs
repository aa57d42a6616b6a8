using System.Buffers;
using System.Text;
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

/// <summary>
/// One item read from an execution socket: a frame, or the end of the stream. A <c>stdout</c>/<c>stderr</c> frame carries
/// its text as the UTF-8 bytes of <see cref="Output"/> (its <see cref="ExecutionServerFrame.Data"/> is null): the reader
/// decodes them once, only if it needs a string, and returns the buffer.
/// </summary>
internal readonly record struct StreamItem(ExecutionServerFrame? Frame, StreamEnd End, SandboxConnectionException? Error, OutputBytes Output = default);

/// <summary>The text of an output frame as UTF-8 bytes in a pooled array; <see cref="Return"/> gives the array back.</summary>
internal readonly record struct OutputBytes(byte[]? Array, int Start, int Length)
{
    public ReadOnlySpan<byte> Span => Array is null ? default : Array.AsSpan(Start, Length);

    public void Return()
    {
        if (Array is { Length: > 0 })
        {
            ArrayPool<byte>.Shared.Return(Array);
        }
    }
}

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
        int sizeHint = 16 * 1024;
        byte[] message = ArrayPool<byte>.Shared.Rent(sizeHint);
        StreamItem end;
        try
        {
            while (true)
            {
                int filled = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (filled == message.Length)
                    {
                        if (filled >= MaxFrameBytes)
                        {
                            throw new WebSocketException(WebSocketError.Faulted, "execution frame exceeds 16 MiB");
                        }

                        var grown = ArrayPool<byte>.Shared.Rent(Math.Min(message.Length * 2, MaxFrameBytes));
                        message.AsSpan(0, filled).CopyTo(grown);
                        ArrayPool<byte>.Shared.Return(message);
                        message = grown;
                    }

                    result = await _socket.ReceiveAsync(message.AsMemory(filled), _stop.Token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }

                    filled += result.Count;
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    end = Classify(_socket.CloseStatus, _socket.CloseStatusDescription);
                    await ReplyCloseAsync().ConfigureAwait(false);
                    break;
                }

                ExecutionServerFrame? frame;
                OutputBytes output;
                try
                {
                    frame = Parse(message, filled, out output);
                }
                catch (Exception ex) when (ex is JsonException or InvalidOperationException)
                {
                    end = new StreamItem(null, StreamEnd.Failed, new SandboxConnectionException("Execution stream sent a malformed frame", ex));
                    break;
                }

                if (ReferenceEquals(output.Array, message))
                {
                    // The frame's text is handed over in place: the next message goes into a fresh buffer sized like this one.
                    sizeHint = Math.Max(16 * 1024, Math.Min(filled, MaxFrameBytes));
                    message = ArrayPool<byte>.Shared.Rent(sizeHint);
                }

                if (frame is not null)
                {
                    await _items.Writer.WriteAsync(new StreamItem(frame, StreamEnd.None, null, output), _stop.Token).ConfigureAwait(false);
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
            ArrayPool<byte>.Shared.Return(message);
        }

        _items.Writer.TryWrite(end);
        _items.Writer.TryComplete();
    }

    /// <summary>
    /// Parses one frame. <c>stdout</c>/<c>stderr</c> frames in the usual shape (<c>type</c>, <c>data</c>, <c>offset</c>) are
    /// read without building a string: the text stays UTF-8, in place in <paramref name="message"/> when it has no escapes,
    /// else unescaped into a pooled array. Any other frame, or an unusual one, goes through the serializer.
    /// </summary>
    internal static ExecutionServerFrame? Parse(byte[] message, int length, out OutputBytes output)
    {
        output = default;
        var json = message.AsSpan(0, length);
        var reader = new Utf8JsonReader(json);
        string? type = null;
        long? offset = null;
        bool hasData = false, usual = reader.Read() && reader.TokenType == JsonTokenType.StartObject;
        while (usual && reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                usual = reader.Read() && reader.TokenType == JsonTokenType.String;
                type = usual ? reader.GetString() : null;
                usual &= type is ExecutionFrameTypes.Stdout or ExecutionFrameTypes.Stderr;
            }
            else if (reader.ValueTextEquals("data"u8) && !hasData)
            {
                usual = reader.Read() && reader.TokenType == JsonTokenType.String;
                if (usual)
                {
                    hasData = true;
                    if (!reader.ValueIsEscaped)
                    {
                        output = new OutputBytes(message, (int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                    }
                    else
                    {
                        var unescaped = ArrayPool<byte>.Shared.Rent(Math.Max(1, reader.ValueSpan.Length));
                        output = new OutputBytes(unescaped, 0, reader.CopyString(unescaped));
                    }
                }
            }
            else if (reader.ValueTextEquals("offset"u8) && offset is null)
            {
                usual = reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long value);
                offset = usual ? reader.GetInt64() : null;
            }
            else
            {
                usual = false; // another property, or a name in another case: the serializer's rules apply
            }
        }

        usual = usual && type is not null && hasData && reader.TokenType == JsonTokenType.EndObject && !reader.Read()
            && System.Text.Unicode.Utf8.IsValid(output.Span);
        if (usual)
        {
            return new ExecutionServerFrame { Type = type!, Offset = offset };
        }

        if (!ReferenceEquals(output.Array, message))
        {
            output.Return();
        }

        output = default;
        var frame = JsonSerializer.Deserialize<ExecutionServerFrame>(json, SandboxJson.Options);
        if (frame is { Type: ExecutionFrameTypes.Stdout or ExecutionFrameTypes.Stderr })
        {
            // Output in an unusual shape: its text as bytes like any other output frame.
            string data = frame.Data ?? "";
            var bytes = ArrayPool<byte>.Shared.Rent(Math.Max(1, Encoding.UTF8.GetMaxByteCount(data.Length)));
            output = new OutputBytes(bytes, 0, Encoding.UTF8.GetBytes(data, bytes));
            frame = frame with { Data = null };
        }

        return frame;
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
