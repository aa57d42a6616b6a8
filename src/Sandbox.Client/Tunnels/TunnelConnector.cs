using Sandbox.Protocol;

namespace Sandbox.Client.Tunnels;

/// <summary>
/// Owns the yamux session of a tunnel and re-establishes it on demand (spec 8.6.5): serialized, so concurrent
/// connections share one reconnect; up to <c>maxReconnects</c> attempts with <c>min(0.5·2^attempt, 8)</c> s between.
/// </summary>
internal sealed class TunnelConnector : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<Stream>> _connect;
    private readonly int _maxReconnects;
    private readonly TimeSpan _pingInterval;
    private readonly TimeProvider _timeProvider;
    private readonly Func<int, TimeSpan> _backoff;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private YamuxSession? _session;
    private bool _disposed;

    public TunnelConnector(
        Func<CancellationToken, Task<Stream>> connect,
        int maxReconnects = 3,
        TimeSpan? pingInterval = null,
        TimeProvider? timeProvider = null,
        Func<int, TimeSpan>? backoff = null)
    {
        _connect = connect;
        _maxReconnects = maxReconnects;
        _pingInterval = pingInterval ?? TimeSpan.FromSeconds(30);
        _timeProvider = timeProvider ?? TimeProvider.System;
        _backoff = backoff ?? DefaultBackoff;
    }

    /// <summary>Number of sessions opened so far (the first one included).</summary>
    public int SessionsOpened { get; private set; }

    /// <summary>The current session, if any.</summary>
    public YamuxSession? Current => Volatile.Read(ref _session);

    /// <summary>Opens the first session; WebSocket and OS errors propagate unchanged.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var transport = await _connect(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _session, YamuxSession.StartClient(transport, _pingInterval, _timeProvider));
        SessionsOpened++;
    }

    /// <summary>Returns a live session, re-establishing it when it has ended.</summary>
    /// <exception cref="TunnelException">Every reconnect attempt failed, or reconnects are disabled.</exception>
    public async Task<YamuxSession> GetSessionAsync(CancellationToken cancellationToken)
    {
        if (Current is { IsClosed: false } live)
        {
            return live;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Current is { IsClosed: false } current)
            {
                return current;
            }

            if (_maxReconnects <= 0)
            {
                throw new TunnelException("tunnel: reconnect failed after 0 attempts (reconnects are disabled).");
            }

            Exception? last = null;
            for (var attempt = 0; attempt < _maxReconnects; attempt++)
            {
                if (attempt > 0)
                {
                    await Task.Delay(_backoff(attempt - 1), _timeProvider, cancellationToken).ConfigureAwait(false);
                }

                try
                {
                    var transport = await _connect(cancellationToken).ConfigureAwait(false);
                    var session = YamuxSession.StartClient(transport, _pingInterval, _timeProvider);
                    SessionsOpened++;
                    var old = Interlocked.Exchange(ref _session, session);
                    if (old is not null)
                    {
                        await old.CloseAsync().ConfigureAwait(false);
                    }

                    return session;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    last = ex;
                }
            }

            throw new TunnelException($"tunnel: reconnect failed after {_maxReconnects} attempts.", last);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (Interlocked.Exchange(ref _session, null) is { } session)
            {
                await session.CloseAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private static TimeSpan DefaultBackoff(int attempt) => TimeSpan.FromSeconds(Math.Min(0.5 * Math.Pow(2, attempt), 8));
}
