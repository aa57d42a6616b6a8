namespace Sandbox.Protocol;

/// <summary>
/// One yamux stream as a <see cref="Stream"/>: reads drain the bytes the peer sent (end-of-stream after FIN; an
/// <see cref="IOException"/> after RST, once buffered bytes are read), writes never exceed the send window and
/// wait for Window Updates. The receive window is re-opened with a Window Update once 128 KiB have been consumed.
/// </summary>
/// <remarks>One reader and one writer may use the stream concurrently. Disposing sends FIN (half-close).</remarks>
public sealed class YamuxStream : DuplexStream
{
    private const int MaxBuffered = 2 * YamuxSession.InitialWindow;
    private readonly YamuxSession _session;
    private readonly object _gate = new();
    private readonly Queue<byte[]> _segments = new();
    private int _segmentOffset;
    private int _buffered;
    private int _consumedSinceUpdate;
    private long _sendWindow = YamuxSession.InitialWindow;
    private bool _remoteFin;
    private bool _reset;
    private bool _localClosed;
    private TaskCompletionSource? _readWaiter;
    private TaskCompletionSource? _windowWaiter;

    internal YamuxStream(YamuxSession session, uint id)
    {
        _session = session;
        Id = id;
    }

    /// <summary>The stream id.</summary>
    public uint Id { get; }

    /// <summary>Bytes that may be sent before the peer re-opens the window.</summary>
    public long SendWindow
    {
        get
        {
            lock (_gate)
            {
                return _sendWindow;
            }
        }
    }

    /// <summary>Whether the peer reset the stream or the session ended.</summary>
    public bool IsReset
    {
        get
        {
            lock (_gate)
            {
                return _reset;
            }
        }
    }

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            Task wait;
            var copied = 0;
            uint update = 0;
            lock (_gate)
            {
                if (_buffered > 0)
                {
                    while (copied < buffer.Length && _segments.Count > 0)
                    {
                        var segment = _segments.Peek();
                        var n = Math.Min(segment.Length - _segmentOffset, buffer.Length - copied);
                        segment.AsSpan(_segmentOffset, n).CopyTo(buffer.Span[copied..]);
                        copied += n;
                        _segmentOffset += n;
                        if (_segmentOffset == segment.Length)
                        {
                            _segments.Dequeue();
                            _segmentOffset = 0;
                        }
                    }

                    _buffered -= copied;
                    _consumedSinceUpdate += copied;
                    if (_consumedSinceUpdate >= YamuxSession.WindowUpdateThreshold && !_remoteFin && !_reset)
                    {
                        update = (uint)_consumedSinceUpdate;
                        _consumedSinceUpdate = 0;
                    }

                    wait = Task.CompletedTask;
                }
                else if (_remoteFin)
                {
                    return 0;
                }
                else if (_reset)
                {
                    throw new IOException($"yamux stream {Id} was reset.");
                }
                else
                {
                    _readWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _readWaiter.Task;
                }
            }

            if (copied > 0)
            {
                if (update > 0)
                {
                    try
                    {
                        await _session.SendWindowUpdateAsync(Id, update, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch (IOException)
                    {
                        // The session ended; the bytes already read are still valid.
                    }
                }

                return copied;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            Task? wait = null;
            var chunk = 0;
            lock (_gate)
            {
                if (_localClosed)
                {
                    throw new IOException($"yamux stream {Id} is closed for writing.");
                }

                if (_reset)
                {
                    throw new IOException($"yamux stream {Id} was reset.");
                }

                if (_sendWindow > 0)
                {
                    chunk = (int)Math.Min(Math.Min(buffer.Length, _sendWindow), YamuxSession.MaxDataFrame);
                    _sendWindow -= chunk;
                }
                else
                {
                    _windowWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _windowWaiter.Task;
                }
            }

            if (wait is not null)
            {
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            await _session.SendDataAsync(Id, YamuxFlags.None, buffer[..chunk], cancellationToken).ConfigureAwait(false);
            buffer = buffer[chunk..];
        }
    }

    /// <summary>Half-closes the stream: sends Data with FIN; later writes fail, reads continue until the peer's FIN.</summary>
    public async Task CloseWriteAsync(CancellationToken cancellationToken = default)
    {
        bool forget;
        lock (_gate)
        {
            if (_localClosed || _reset)
            {
                return;
            }

            _localClosed = true;
            forget = _remoteFin;
            SignalWindow();
        }

        try
        {
            await _session.SendDataAsync(Id, YamuxFlags.Fin, default, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The session already ended; nothing to close.
        }

        if (forget)
        {
            _session.Forget(Id);
        }
    }

    internal void OnData(byte[] payload)
    {
        lock (_gate)
        {
            if (_reset || _remoteFin)
            {
                return;
            }

            if (_buffered + payload.Length > MaxBuffered)
            {
                // The peer ignores our window; drop the stream rather than buffer without bound.
                _reset = true;
                SignalRead();
                SignalWindow();
                return;
            }

            _segments.Enqueue(payload);
            _buffered += payload.Length;
            SignalRead();
        }
    }

    internal void OnWindowUpdate(uint increment)
    {
        lock (_gate)
        {
            _sendWindow += increment;
            SignalWindow();
        }
    }

    internal void OnRemoteFin()
    {
        bool forget;
        lock (_gate)
        {
            _remoteFin = true;
            forget = _localClosed;
            SignalRead();
        }

        if (forget)
        {
            _session.Forget(Id);
        }
    }

    internal void OnReset()
    {
        lock (_gate)
        {
            _reset = true;
            SignalRead();
            SignalWindow();
        }

        _session.Forget(Id);
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await CloseWriteAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ = CloseWriteAsync();
        }

        base.Dispose(disposing);
    }

    private void SignalRead()
    {
        _readWaiter?.TrySetResult();
        _readWaiter = null;
    }

    private void SignalWindow()
    {
        _windowWaiter?.TrySetResult();
        _windowWaiter = null;
    }
}
