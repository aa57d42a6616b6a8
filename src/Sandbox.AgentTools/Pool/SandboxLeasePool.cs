using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>
/// Keeps warm sandboxes from one snapshot and gives each conversation its own box, one lease at a time.
/// </summary>
/// <remarks>
/// <para>Thread-safe; meant to be a singleton per (client, snapshot). Modelled on Npgsql's pooling data source: warm
/// boxes wait in a channel, box creation is bounded by <see cref="SandboxPoolOptions.MaxBoxes"/>, renting a conversation's
/// box that was used recently completes synchronously.</para>
/// <para>Isolation: a box is bound to the first conversation that rents it and is never handed to another one. When a
/// conversation is released (<see cref="ReleaseConversationAsync"/>), idle for
/// <see cref="SandboxPoolOptions.ConversationIdleTimeout"/> or past <see cref="SandboxPoolOptions.MaxLifetime"/>, its box
/// is deleted.</para>
/// <para>Ownership: the pool deletes every box it created when disposed, including boxes leased at that moment.</para>
/// </remarks>
public sealed class SandboxLeasePool : IAsyncDisposable, IDisposable
{
    private static readonly TimeSpan DeleteTimeout = TimeSpan.FromSeconds(30);

    private readonly ISandboxProvisioner _provisioner;
    private readonly SandboxPoolOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<PooledBox> _warm = Channel.CreateUnbounded<PooledBox>();
    private readonly SemaphoreSlim _capacity;
    private readonly Dictionary<string, ConversationSlot> _slots = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly CancellationTokenSource _disposeCts = new();
    private readonly ITimer _pruneTimer;
    private int _warmCount;
    private int _busyCount;
    private int _totalCount;
    private int _filling;
    private int _disposed;

    /// <summary>Creates a pool over <paramref name="client"/>. The pool starts filling its warm set right away.</summary>
    /// <param name="client">The client boxes are created with; not disposed by the pool.</param>
    /// <param name="options">Pool settings; defaults when null.</param>
    /// <param name="timeProvider">Clock for idle and lifetime decisions; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Logging; none when null.</param>
    public SandboxLeasePool(SandboxClient client, SandboxPoolOptions? options = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
        : this(new ClientSandboxProvisioner(client ?? throw new ArgumentNullException(nameof(client)), options ?? new SandboxPoolOptions()),
            options ?? new SandboxPoolOptions(), timeProvider ?? TimeProvider.System, loggerFactory?.CreateLogger<SandboxLeasePool>())
    {
    }

    internal SandboxLeasePool(ISandboxProvisioner provisioner, SandboxPoolOptions options, TimeProvider timeProvider, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxBoxes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxBoxes, "SandboxPoolOptions.MaxBoxes must be at least 1.");
        }

        if (options.MinIdle < 0 || options.MinIdle > options.MaxBoxes)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MinIdle, "SandboxPoolOptions.MinIdle must be between 0 and MaxBoxes.");
        }

        _provisioner = provisioner;
        _options = options;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _capacity = new SemaphoreSlim(options.MaxBoxes, options.MaxBoxes);
        Name = options.SnapshotId ?? options.SnapshotName ?? "default";
        TimeSpan prune = options.PruneInterval > TimeSpan.Zero ? options.PruneInterval : TimeSpan.FromSeconds(10);
        _pruneTimer = _time.CreateTimer(static state => ((SandboxLeasePool)state!).Prune(), this, prune, prune);
        SandboxToolsDiagnostics.Register(this);
        TriggerFill();
    }

    /// <summary>The pool's name in metrics: the snapshot id or name.</summary>
    public string Name { get; }

    internal SandboxPoolOptions Options => _options;

    /// <summary>Counts the boxes the pool owns, by state.</summary>
    public SandboxPoolStatistics GetStatistics()
    {
        int assigned;
        lock (_lock)
        {
            assigned = 0;
            foreach (ConversationSlot slot in _slots.Values)
            {
                if (slot.Box is not null)
                {
                    assigned++;
                }
            }
        }

        int busy = Volatile.Read(ref _busyCount);
        return new SandboxPoolStatistics(Volatile.Read(ref _warmCount), Math.Max(0, assigned - busy), busy, Volatile.Read(ref _totalCount));
    }

    /// <summary>
    /// Rents the box of <paramref name="conversationId"/>: the box it used before, else a warm box, else a new one.
    /// Waits while another call of the same conversation holds its lease.
    /// </summary>
    /// <param name="conversationId">Affinity key chosen by the host (one per chat thread / agent session).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The lease; dispose it to hand the box back.</returns>
    /// <exception cref="SandboxPoolExhaustedException">No box within <see cref="SandboxPoolOptions.AcquireTimeout"/>.</exception>
    public ValueTask<SandboxLease> RentAsync(string conversationId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        cancellationToken.ThrowIfCancellationRequested();

        ConversationSlot slot = EnterSlot(conversationId);
        if (slot.Gate.Wait(0))
        {
            PooledBox? box = slot.Box;
            if (box is not null && !slot.StateLostPending && !IsExpired(box, _time.GetUtcNow()) && !NeedsHealthCheck(box))
            {
                SandboxToolsDiagnostics.LeaseWaitTime.Record(0, new KeyValuePair<string, object?>("sandbox.pool.name", Name));
                return new ValueTask<SandboxLease>(CreateLease(slot, box, previousSandboxLost: false));
            }

            return new ValueTask<SandboxLease>(RentSlowAsync(slot, gateHeld: true, cancellationToken));
        }

        return new ValueTask<SandboxLease>(RentSlowAsync(slot, gateHeld: false, cancellationToken));
    }

    /// <summary>
    /// Ends a conversation: deletes its box (waiting for a running lease to be returned first). A released conversation
    /// that rents again gets a fresh box.
    /// </summary>
    public async ValueTask ReleaseConversationAsync(string conversationId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(conversationId);
        ConversationSlot? slot;
        lock (_lock)
        {
            if (!_slots.TryGetValue(conversationId, out slot))
            {
                return;
            }

            slot.Users++;
        }

        bool held = false;
        try
        {
            await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            held = true;
            PooledBox? box = slot.Box;
            slot.Box = null;
            slot.StateLostPending = false;
            slot.LostAt = null;
            if (box is not null)
            {
                await DeleteBoxAsync(box, "conversation released").ConfigureAwait(false);
            }
        }
        finally
        {
            if (held)
            {
                slot.Gate.Release();
            }

            ExitSlot(slot, forget: true);
        }
    }

    /// <summary>Creates warm boxes until <see cref="SandboxPoolOptions.MinIdle"/> are ready (or capacity runs out).</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposeCts.Token);
        while (Volatile.Read(ref _warmCount) < _options.MinIdle && _capacity.Wait(0))
        {
            PooledBox box = await CreateBoxAsync(linked.Token).ConfigureAwait(false);
            AddWarm(box);
        }
    }

    /// <summary>Deletes every box the pool created and stops its timer.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        SandboxToolsDiagnostics.Unregister(this);
        await _pruneTimer.DisposeAsync().ConfigureAwait(false);
        await _disposeCts.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_background.Keys).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Failures of background work were logged where they happened.
        }

        var deletions = new List<Task>();
        while (_warm.Reader.TryRead(out PooledBox? warm))
        {
            Interlocked.Decrement(ref _warmCount);
            deletions.Add(DeleteBoxAsync(warm, "pool disposed"));
        }

        lock (_lock)
        {
            foreach (ConversationSlot slot in _slots.Values)
            {
                if (slot.Box is { } box)
                {
                    slot.Box = null;
                    deletions.Add(DeleteBoxAsync(box, "pool disposed"));
                }
            }
        }

        await Task.WhenAll(deletions).ConfigureAwait(false);
    }

    /// <summary>Synchronous <see cref="DisposeAsync"/>, for containers that dispose synchronously; prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    internal void Return(SandboxLease lease)
    {
        ConversationSlot slot = lease.Slot;
        PooledBox box = lease.Box;
        Interlocked.Decrement(ref _busyCount);
        DateTimeOffset now = _time.GetUtcNow();
        box.LastReleasedAt = now;
        if (Volatile.Read(ref _disposed) != 0)
        {
            // DisposeAsync deletes what is still bound; a lease outliving the pool only lets go of the gate.
        }
        else if (IsExpired(box, now) && ReferenceEquals(slot.Box, box))
        {
            slot.Box = null;
            slot.StateLostPending = true;
            slot.LostAt = now;
            Track(DeleteBoxAsync(box, "max lifetime reached"));
        }

        slot.Gate.Release();
        ExitSlot(slot, forget: false);
    }

    private async Task<SandboxLease> RentSlowAsync(ConversationSlot slot, bool gateHeld, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        using Activity? activity = SandboxToolsDiagnostics.ActivitySource.StartActivity("sandbox.lease.acquire");
        activity?.SetTag("sandbox.pool.name", Name);
        using var timeout = new CancellationTokenSource(_options.AcquireTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token, _disposeCts.Token);
        bool boxBeingAcquired = false;
        try
        {
            if (!gateHeld)
            {
                await slot.Gate.WaitAsync(linked.Token).ConfigureAwait(false);
                gateHeld = true;
            }

            bool lost = slot.StateLostPending;
            PooledBox? box = slot.Box;
            if (box is not null)
            {
                string? reason = IsExpired(box, _time.GetUtcNow()) ? "max lifetime reached"
                    : NeedsHealthCheck(box) && !await IsHealthyAsync(box, linked.Token).ConfigureAwait(false) ? "failed health check"
                    : null;
                if (reason is not null)
                {
                    if (reason == "failed health check")
                    {
                        Log.BoxUnhealthy(_logger, box.Instance.Name, slot.ConversationId);
                    }

                    slot.Box = null;
                    lost = true;
                    Track(DeleteBoxAsync(box, reason));
                    box = null;
                }
            }

            if (box is null)
            {
                boxBeingAcquired = true;
                box = await AcquireUnassignedBoxAsync(linked.Token).ConfigureAwait(false);
                box.ConversationId = slot.ConversationId;
                slot.Box = box;
                boxBeingAcquired = false;
                activity?.SetTag("sandbox.new_box", true);
            }

            slot.StateLostPending = false;
            slot.LostAt = null;
            activity?.SetTag("sandbox.name", box.Instance.Name);
            SandboxToolsDiagnostics.LeaseWaitTime.Record(_time.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("sandbox.pool.name", Name));
            return CreateLease(slot, box, lost);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested && Volatile.Read(ref _disposed) == 0)
        {
            ReleaseAfterFailure(slot, gateHeld);
            Log.AcquireTimedOut(_logger, slot.ConversationId, _options.AcquireTimeout);
            activity?.SetStatus(ActivityStatusCode.Error, "acquire timed out");
            throw new SandboxPoolExhaustedException(DescribeExhaustion(slot, gateHeld, boxBeingAcquired));
        }
        catch (Exception ex)
        {
            ReleaseAfterFailure(slot, gateHeld);
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            if (ex is OperationCanceledException && Volatile.Read(ref _disposed) != 0 && !cancellationToken.IsCancellationRequested)
            {
                throw new ObjectDisposedException(nameof(SandboxLeasePool));
            }

            throw;
        }
    }

    private string DescribeExhaustion(ConversationSlot slot, bool gateHeld, bool boxBeingAcquired)
    {
        if (!gateHeld)
        {
            return $"Conversation '{slot.ConversationId}' waited {_options.AcquireTimeout} for its sandbox, which another call of the same conversation " +
                $"still holds (one call at a time per conversation). Dispose leases promptly, or raise {nameof(SandboxPoolOptions)}.{nameof(SandboxPoolOptions.AcquireTimeout)}.";
        }

        SandboxPoolStatistics stats = GetStatistics();
        return boxBeingAcquired && stats.Total < _options.MaxBoxes
            ? $"Creating a sandbox for conversation '{slot.ConversationId}' took longer than {_options.AcquireTimeout}. Raise " +
              $"{nameof(SandboxPoolOptions)}.{nameof(SandboxPoolOptions.AcquireTimeout)} (and {nameof(SandboxPoolOptions.CreateTimeout)}), or keep warm boxes with {nameof(SandboxPoolOptions.MinIdle)}."
            : $"No sandbox for conversation '{slot.ConversationId}' within {_options.AcquireTimeout}: all {_options.MaxBoxes} sandboxes of pool '{Name}' " +
              $"are assigned to other conversations ({stats.Busy} busy, {stats.Assigned} idle but assigned). Raise {nameof(SandboxPoolOptions)}.{nameof(SandboxPoolOptions.MaxBoxes)}, " +
              $"lower {nameof(SandboxPoolOptions)}.{nameof(SandboxPoolOptions.ConversationIdleTimeout)} so idle conversations give their boxes back sooner, " +
              $"release finished conversations with {nameof(ReleaseConversationAsync)}, or raise {nameof(SandboxPoolOptions)}.{nameof(SandboxPoolOptions.AcquireTimeout)}.";
    }

    private void ReleaseAfterFailure(ConversationSlot slot, bool gateHeld)
    {
        if (gateHeld)
        {
            slot.Gate.Release();
        }

        ExitSlot(slot, forget: false);
    }

    private async Task<PooledBox> AcquireUnassignedBoxAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await TryTakeWarmAsync(cancellationToken).ConfigureAwait(false) is { } warm)
            {
                return warm;
            }

            if (_capacity.Wait(0))
            {
                return await CreateBoxAsync(cancellationToken).ConfigureAwait(false);
            }

            // At capacity: wait until a box is deleted (a permit frees up) or a warm box appears.
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task permit = _capacity.WaitAsync(attempt.Token);
            Task<bool> warmReady = _warm.Reader.WaitToReadAsync(attempt.Token).AsTask();
            await Task.WhenAny(permit, warmReady).ConfigureAwait(false);
            await attempt.CancelAsync().ConfigureAwait(false);
            bool gotPermit;
            try
            {
                await permit.ConfigureAwait(false);
                gotPermit = true;
            }
            catch (OperationCanceledException)
            {
                gotPermit = false;
            }

            _ = warmReady.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            if (gotPermit)
            {
                if (await TryTakeWarmAsync(cancellationToken).ConfigureAwait(false) is { } raced)
                {
                    _capacity.Release();
                    return raced;
                }

                return await CreateBoxAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<PooledBox?> TryTakeWarmAsync(CancellationToken cancellationToken)
    {
        while (_warm.Reader.TryRead(out PooledBox? box))
        {
            Interlocked.Decrement(ref _warmCount);
            TriggerFill();
            if (IsExpired(box, _time.GetUtcNow()))
            {
                Track(DeleteBoxAsync(box, "max lifetime reached"));
                continue;
            }

            if (NeedsHealthCheck(box) && !await IsHealthyAsync(box, cancellationToken).ConfigureAwait(false))
            {
                Track(DeleteBoxAsync(box, "failed health check"));
                continue;
            }

            return box;
        }

        return null;
    }

    /// <summary>Creates a box; the caller holds a capacity permit, which is given back when creation fails.</summary>
    private async Task<PooledBox> CreateBoxAsync(CancellationToken cancellationToken)
    {
        using Activity? activity = SandboxToolsDiagnostics.ActivitySource.StartActivity("sandbox.create");
        activity?.SetTag("sandbox.pool.name", Name);
        long started = _time.GetTimestamp();
        Interlocked.Increment(ref _totalCount);
        try
        {
            SandboxInstance instance = await _provisioner.CreateAsync(cancellationToken).ConfigureAwait(false);
            TimeSpan elapsed = _time.GetElapsedTime(started);
            var tag = new KeyValuePair<string, object?>("sandbox.pool.name", Name);
            SandboxToolsDiagnostics.CreateDuration.Record(elapsed.TotalSeconds, tag);
            SandboxToolsDiagnostics.BoxesCreated.Add(1, tag);
            activity?.SetTag("sandbox.name", instance.Name);
            Log.BoxCreated(_logger, instance.Name, elapsed.TotalMilliseconds);
            return new PooledBox(instance, _time.GetUtcNow());
        }
        catch (Exception ex)
        {
            Interlocked.Decrement(ref _totalCount);
            _capacity.Release();
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            if (ex is not OperationCanceledException)
            {
                Log.BoxCreateFailed(_logger, ex);
            }

            throw;
        }
    }

    private async Task<bool> IsHealthyAsync(PooledBox box, CancellationToken cancellationToken)
    {
        try
        {
            return await _provisioner.IsHealthyAsync(box.Instance, cancellationToken).ConfigureAwait(false);
        }
        catch (SandboxException)
        {
            return false;
        }
    }

    private async Task DeleteBoxAsync(PooledBox box, string reason)
    {
        try
        {
            if (box.DetachAttachment() is { } attachment)
            {
                await attachment.DisposeAsync().ConfigureAwait(false);
            }

            using var timeout = new CancellationTokenSource(DeleteTimeout);
            await _provisioner.DeleteAsync(box.Instance, timeout.Token).ConfigureAwait(false);
            SandboxToolsDiagnostics.BoxesDeleted.Add(1, new KeyValuePair<string, object?>("sandbox.pool.name", Name));
            Log.BoxDeleted(_logger, box.Instance.Name, reason);
        }
        catch (Exception ex)
        {
            Log.BoxDeleteFailed(_logger, ex, box.Instance.Name, reason);
        }
        finally
        {
            Interlocked.Decrement(ref _totalCount);
            _capacity.Release();
        }
    }

    private SandboxLease CreateLease(ConversationSlot slot, PooledBox box, bool previousSandboxLost)
    {
        Interlocked.Increment(ref _busyCount);
        return new SandboxLease(this, slot, box, previousSandboxLost);
    }

    private ConversationSlot EnterSlot(string conversationId)
    {
        lock (_lock)
        {
            if (!_slots.TryGetValue(conversationId, out ConversationSlot? slot))
            {
                slot = new ConversationSlot(conversationId);
                _slots.Add(conversationId, slot);
            }

            slot.Users++;
            return slot;
        }
    }

    private void ExitSlot(ConversationSlot slot, bool forget)
    {
        lock (_lock)
        {
            slot.Users--;
            if (slot.Users == 0 && slot.Box is null && (forget || !slot.StateLostPending))
            {
                _slots.Remove(slot.ConversationId);
            }
        }
    }

    private bool IsExpired(PooledBox box, DateTimeOffset now) =>
        _options.MaxLifetime > TimeSpan.Zero && now - box.CreatedAt >= _options.MaxLifetime;

    private bool NeedsHealthCheck(PooledBox box) =>
        _time.GetUtcNow() - box.LastReleasedAt >= _options.HealthCheckAfterIdle;

    private void AddWarm(PooledBox box)
    {
        Interlocked.Increment(ref _warmCount);
        if (!_warm.Writer.TryWrite(box))
        {
            Interlocked.Decrement(ref _warmCount);
            Track(DeleteBoxAsync(box, "pool disposed"));
        }
    }

    private void TriggerFill()
    {
        if (Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _warmCount) >= _options.MinIdle)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _filling, 1, 0) == 0)
        {
            Track(Task.Run(FillAsync));
        }
    }

    private async Task FillAsync()
    {
        try
        {
            while (Volatile.Read(ref _disposed) == 0 && Volatile.Read(ref _warmCount) < _options.MinIdle && _capacity.Wait(0))
            {
                PooledBox box;
                try
                {
                    box = await CreateBoxAsync(_disposeCts.Token).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Logged by CreateBoxAsync; the next prune tick tries again.
                    return;
                }

                if (Volatile.Read(ref _disposed) != 0)
                {
                    await DeleteBoxAsync(box, "pool disposed").ConfigureAwait(false);
                    return;
                }

                AddWarm(box);
            }
        }
        finally
        {
            Volatile.Write(ref _filling, 0);
        }
    }

    private void Prune()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            DateTimeOffset now = _time.GetUtcNow();
            var reclaimed = new List<(PooledBox Box, string Reason)>();
            lock (_lock)
            {
                List<string>? forget = null;
                foreach (ConversationSlot slot in _slots.Values)
                {
                    if (slot.Box is { } box && slot.Gate.Wait(0))
                    {
                        string? reason = IsExpired(box, now) ? "max lifetime reached"
                            : now - box.LastReleasedAt >= _options.ConversationIdleTimeout ? "conversation idle timeout"
                            : null;
                        if (reason is not null)
                        {
                            slot.Box = null;
                            slot.StateLostPending = true;
                            slot.LostAt = now;
                            reclaimed.Add((box, reason));
                        }

                        slot.Gate.Release();
                    }

                    // Remember a reclaimed conversation for a while so its next call can say that state was lost.
                    if (slot.Box is null && slot.Users == 0 && (slot.LostAt is null || now - slot.LostAt.Value >= _options.ConversationIdleTimeout * 4))
                    {
                        (forget ??= []).Add(slot.ConversationId);
                    }
                }

                if (forget is not null)
                {
                    foreach (string id in forget)
                    {
                        _slots.Remove(id);
                    }
                }
            }

            int warm = Volatile.Read(ref _warmCount);
            for (int i = 0; i < warm && _warm.Reader.TryRead(out PooledBox? box); i++)
            {
                if (IsExpired(box, now))
                {
                    Interlocked.Decrement(ref _warmCount);
                    reclaimed.Add((box, "max lifetime reached"));
                }
                else if (!_warm.Writer.TryWrite(box))
                {
                    Interlocked.Decrement(ref _warmCount);
                    reclaimed.Add((box, "pool disposed"));
                }
            }

            foreach ((PooledBox box, string reason) in reclaimed)
            {
                Track(DeleteBoxAsync(box, reason));
            }

            TriggerFill();
        }
        catch (Exception ex)
        {
            Log.PruneFailed(_logger, ex);
        }
    }

    private void Track(Task task)
    {
        if (task.IsCompleted)
        {
            return;
        }

        _background.TryAdd(task, 0);
        _ = task.ContinueWith(static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _),
            _background, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
