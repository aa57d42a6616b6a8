using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Sandbox.Protocol;

/// <summary>
/// A yamux session over a byte-stream transport (spec 8.6.2), usable as the client (opens odd stream ids) or as the
/// server (accepts them). One receive loop dispatches frames to streams; frames are sent one at a time, each as a
/// single transport write (one WebSocket message), header and payload together.
/// </summary>
public sealed class YamuxSession : IAsyncDisposable
{
    /// <summary>Initial per-stream window in both directions: 256 KiB.</summary>
    public const int InitialWindow = 256 * 1024;

    /// <summary>Consumed bytes after which a Window Update is sent: 128 KiB.</summary>
    public const int WindowUpdateThreshold = 128 * 1024;

    /// <summary>Largest data payload sent in one frame.</summary>
    public const int MaxDataFrame = 64 * 1024;

    private const int MaxStreams = 1024;
    private readonly Stream _transport;
    private readonly bool _isClient;
    private readonly ConcurrentDictionary<uint, YamuxStream> _streams = new();
    private readonly Channel<YamuxStream> _accepted = Channel.CreateUnbounded<YamuxStream>(new UnboundedChannelOptions { SingleReader = false });
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _receiveLoop;
    private readonly Task _pingLoop;
    private long _nextStreamId;
    private uint _nextPing;
    private int _closing;

    private YamuxSession(Stream transport, bool isClient, TimeSpan pingInterval, TimeProvider timeProvider)
    {
        _transport = transport;
        _isClient = isClient;
        _nextStreamId = isClient ? 1 : 2;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
        _pingLoop = pingInterval > TimeSpan.Zero ? Task.Run(() => PingLoopAsync(pingInterval, timeProvider)) : Task.CompletedTask;
    }

    /// <summary>Whether the session has ended (Go Away sent or received, or the transport ended).</summary>
    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>Completes when the session has ended.</summary>
    public Task Completion => _closed.Task;

    /// <summary>Number of streams currently tracked.</summary>
    public int StreamCount => _streams.Count;

    /// <summary>Starts a client session (odd stream ids, pings every <paramref name="pingInterval"/>; zero disables them).</summary>
    public static YamuxSession StartClient(Stream transport, TimeSpan pingInterval, TimeProvider? timeProvider = null)
        => new(transport, isClient: true, pingInterval, timeProvider ?? TimeProvider.System);

    /// <summary>Starts a server session that accepts the streams the client opens.</summary>
    public static YamuxSession StartServer(Stream transport)
        => new(transport, isClient: false, TimeSpan.Zero, TimeProvider.System);

    /// <summary>Opens a stream: sends Window Update with SYN and length 0 without waiting for the ACK (spec 8.6.2).</summary>
    public async Task<YamuxStream> OpenStreamAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        var id = (uint)(Interlocked.Add(ref _nextStreamId, 2) - 2);
        var stream = new YamuxStream(this, id);
        _streams[id] = stream;
        try
        {
            await SendFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, id, 0), default, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _streams.TryRemove(id, out _);
            throw;
        }

        return stream;
    }

    /// <summary>Waits for the next stream the peer opens; <see langword="null"/> once the session has ended.</summary>
    public async ValueTask<YamuxStream?> AcceptStreamAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Sends Go Away, ends the session, resets every stream and closes the transport.</summary>
    public async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closing, 1) == 0 && !IsClosed)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await SendFrameAsync(new YamuxFrameHeader(YamuxFrameType.GoAway, YamuxFlags.None, 0, 0), default, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The transport is already gone; closing proceeds.
            }
        }

        Terminate();
        await _transport.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_receiveLoop, _pingLoop).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        _shutdown.Dispose();
    }

    internal Task SendWindowUpdateAsync(uint streamId, uint increment, CancellationToken cancellationToken)
        => SendFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.None, streamId, increment), default, cancellationToken);

    internal Task SendDataAsync(uint streamId, YamuxFlags flags, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        => SendFrameAsync(new YamuxFrameHeader(YamuxFrameType.Data, flags, streamId, (uint)payload.Length), payload, cancellationToken);

    internal void Forget(uint streamId) => _streams.TryRemove(streamId, out _);

    internal async Task SendFrameAsync(YamuxFrameHeader header, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        if (IsClosed)
        {
            throw new IOException("The yamux session is closed.");
        }

        var length = YamuxFrameHeader.Size + payload.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            header.Write(buffer);
            payload.CopyTo(buffer.AsMemory(YamuxFrameHeader.Size));
            await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _transport.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            Terminate();
            throw new IOException("The yamux session is closed.", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void ThrowIfClosed()
    {
        if (IsClosed || Volatile.Read(ref _closing) != 0)
        {
            throw new IOException("The yamux session is closed.");
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var headerBytes = new byte[YamuxFrameHeader.Size];
        try
        {
            while (!_shutdown.IsCancellationRequested)
            {
                if (!await ReadExactlyAsync(headerBytes).ConfigureAwait(false))
                {
                    break;
                }

                var header = YamuxFrameHeader.Read(headerBytes);
                switch (header.Type)
                {
                    case YamuxFrameType.Data:
                        if (header.Length > 4 * InitialWindow)
                        {
                            throw new InvalidDataException($"yamux: data frame of {header.Length} bytes exceeds the window.");
                        }

                        var payload = header.Length == 0 ? [] : new byte[header.Length];
                        if (payload.Length > 0 && !await ReadExactlyAsync(payload).ConfigureAwait(false))
                        {
                            return;
                        }

                        await OnStreamFrameAsync(header, payload).ConfigureAwait(false);
                        break;
                    case YamuxFrameType.WindowUpdate:
                        await OnStreamFrameAsync(header, []).ConfigureAwait(false);
                        break;
                    case YamuxFrameType.Ping:
                        if ((header.Flags & YamuxFlags.Syn) != 0)
                        {
                            await SendFrameAsync(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Ack, 0, header.Length), default, _shutdown.Token).ConfigureAwait(false);
                        }

                        break;
                    case YamuxFrameType.GoAway:
                        return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or OperationCanceledException or ObjectDisposedException)
        {
            // A broken transport or a protocol violation ends the session like a Go Away.
        }
        finally
        {
            Terminate();
        }
    }

    private async ValueTask OnStreamFrameAsync(YamuxFrameHeader header, byte[] payload)
    {
        if (!_streams.TryGetValue(header.StreamId, out var stream))
        {
            var opensStream = (header.Flags & YamuxFlags.Syn) != 0 && !_isClient && header.StreamId % 2 == 1;
            if (!opensStream || Volatile.Read(ref _closing) != 0)
            {
                return; // Frames for unknown streams are read and discarded.
            }

            if (_streams.Count >= MaxStreams)
            {
                await SendFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Rst, header.StreamId, 0), default, _shutdown.Token).ConfigureAwait(false);
                return;
            }

            stream = new YamuxStream(this, header.StreamId);
            _streams[header.StreamId] = stream;
            await SendFrameAsync(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Ack, header.StreamId, 0), default, _shutdown.Token).ConfigureAwait(false);
            _accepted.Writer.TryWrite(stream);
        }

        if (header.Type == YamuxFrameType.WindowUpdate && header.Length > 0)
        {
            stream.OnWindowUpdate(header.Length);
        }

        if (payload.Length > 0)
        {
            stream.OnData(payload);
        }

        if ((header.Flags & YamuxFlags.Rst) != 0)
        {
            stream.OnReset();
        }
        else if ((header.Flags & YamuxFlags.Fin) != 0)
        {
            stream.OnRemoteFin();
        }
    }

    private async ValueTask<bool> ReadExactlyAsync(byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _transport.ReadAsync(buffer.AsMemory(read), _shutdown.Token).ConfigureAwait(false);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private async Task PingLoopAsync(TimeSpan interval, TimeProvider timeProvider)
    {
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_shutdown.Token).ConfigureAwait(false))
            {
                var opaque = Interlocked.Increment(ref _nextPing);
                await SendFrameAsync(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, opaque), default, _shutdown.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The session ended.
        }
    }

    private void Terminate()
    {
        if (!_closed.TrySetResult())
        {
            return;
        }

        try
        {
            _shutdown.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed.
        }

        _accepted.Writer.TryComplete();
        foreach (var stream in _streams.Values)
        {
            stream.OnReset();
        }

        _streams.Clear();
    }
}
