using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Threading.Channels;
using Sandbox.Client.Tunnels;
using Sandbox.Protocol;

namespace Sandbox.Client.Tests.Tunnels;

/// <summary>A scripted yamux server: reads the client's frames off a server WebSocket and sends hand-built frames back.</summary>
internal sealed class FakeYamuxPeer : IAsyncDisposable
{
    private readonly WebSocket _socket;
    private readonly Channel<byte[]> _messages = Channel.CreateUnbounded<byte[]>();
    private readonly Task _receiveLoop;
    private byte[] _current = [];
    private int _currentOffset;
    private int _messagesReceived;

    public FakeYamuxPeer(WebSocket socket)
    {
        _socket = socket;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    public int MessagesReceived => Volatile.Read(ref _messagesReceived);

    public static async Task<(FakeYamuxPeer Peer, Stream ClientTransport)> CreateAsync()
    {
        var (client, server) = await SocketPair.CreateWebSocketsAsync();
        return (new FakeYamuxPeer(server), new WebSocketByteStream(client));
    }

    public async Task<(YamuxFrameHeader Header, byte[] Payload)> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var header = YamuxFrameHeader.Read(await ReadBytesAsync(YamuxFrameHeader.Size, cts.Token));
        var payload = header.Type == YamuxFrameType.Data ? await ReadBytesAsync((int)header.Length, cts.Token) : [];
        return (header, payload);
    }

    /// <summary>Reads frames until one matches, skipping pings; fails on timeout.</summary>
    public async Task<(YamuxFrameHeader Header, byte[] Payload)> ReadFrameAsync(Func<YamuxFrameHeader, bool> match)
    {
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (match(frame.Header))
            {
                return frame;
            }
        }
    }

    /// <summary>True when no frame arrives within <paramref name="wait"/>.</summary>
    public async Task<bool> IsQuietAsync(TimeSpan wait)
    {
        try
        {
            await ReadFrameAsync(wait);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    public Task SendAsync(YamuxFrameType type, YamuxFlags flags, uint streamId, uint length, byte[]? payload = null)
    {
        var buffer = new byte[YamuxFrameHeader.Size + (payload?.Length ?? 0)];
        new YamuxFrameHeader(type, flags, streamId, length).Write(buffer);
        payload?.CopyTo(buffer, YamuxFrameHeader.Size);
        return _socket.SendAsync(buffer, WebSocketMessageType.Binary, true, CancellationToken.None);
    }

    public Task SendDataAsync(uint streamId, byte[] payload, YamuxFlags flags = YamuxFlags.None)
        => SendAsync(YamuxFrameType.Data, flags, streamId, (uint)payload.Length, payload);

    public Task SendRawAsync(byte[] bytes, WebSocketMessageType type = WebSocketMessageType.Binary)
        => _socket.SendAsync(bytes, type, true, CancellationToken.None);

    public static uint ReadPort(byte[] connectHeader) => BinaryPrimitives.ReadUInt16BigEndian(connectHeader.AsSpan(1));

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        _socket.Dispose();
        await _receiveLoop;
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[256 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (result.EndOfMessage)
                {
                    Interlocked.Increment(ref _messagesReceived);
                    _messages.Writer.TryWrite(message.ToArray());
                    message.SetLength(0);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }

    private async Task<byte[]> ReadBytesAsync(int count, CancellationToken cancellationToken)
    {
        var bytes = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_currentOffset == _current.Length)
            {
                if (!await _messages.Reader.WaitToReadAsync(cancellationToken))
                {
                    throw new EndOfStreamException("The client closed the WebSocket.");
                }

                _current = await _messages.Reader.ReadAsync(cancellationToken);
                _currentOffset = 0;
                continue;
            }

            var n = Math.Min(count - filled, _current.Length - _currentOffset);
            Array.Copy(_current, _currentOffset, bytes, filled, n);
            filled += n;
            _currentOffset += n;
        }

        return bytes;
    }
}
