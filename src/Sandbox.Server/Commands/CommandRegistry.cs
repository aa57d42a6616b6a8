using System.Collections.Concurrent;

namespace Sandbox.Server.Commands;

/// <summary>The command sessions of one running box, keyed by command_id (get-or-create makes execute idempotent).</summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class CommandRegistry : IAsyncDisposable
{
    private const int MaxExpiredIds = 4096;
    private readonly ConcurrentDictionary<string, CommandSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<CommandSession>>> _starting = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _expiredOrder = new();
    private readonly ConcurrentDictionary<string, byte> _expired = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public bool TryGet(string commandId, out CommandSession session) => _sessions.TryGetValue(commandId, out session!);

    /// <summary>True when a session with this id existed and was discarded after its TTL.</summary>
    public bool IsExpired(string commandId) => _expired.ContainsKey(commandId);

    /// <summary>Returns the session with <paramref name="commandId"/>, starting it with <paramref name="start"/> if it does not exist.</summary>
    public async Task<(CommandSession Session, bool Created)> GetOrStartAsync(string commandId, Func<Task<CommandSession>> start)
    {
        if (_sessions.TryGetValue(commandId, out var existing))
        {
            return (existing, false);
        }

        var lazy = new Lazy<Task<CommandSession>>(start, LazyThreadSafetyMode.ExecutionAndPublication);
        var winner = _starting.GetOrAdd(commandId, lazy);
        try
        {
            var session = await winner.Value.ConfigureAwait(false);
            _sessions.TryAdd(commandId, session);
            return (session, ReferenceEquals(winner, lazy));
        }
        finally
        {
            _starting.TryRemove(new KeyValuePair<string, Lazy<Task<CommandSession>>>(commandId, winner));
        }
    }

    /// <summary>Drops a finished session after its TTL; later reattach attempts get SessionExpired.</summary>
    public void Expire(CommandSession session)
    {
        if (_sessions.TryRemove(new KeyValuePair<string, CommandSession>(session.CommandId, session)))
        {
            _expired[session.CommandId] = 0;
            _expiredOrder.Enqueue(session.CommandId);
            while (_expiredOrder.Count > MaxExpiredIds && _expiredOrder.TryDequeue(out string? old))
            {
                _expired.TryRemove(old, out _);
            }

            _ = session.DisposeAsync().AsTask();
        }
    }

    /// <summary>Every session still kept (running, or finished and within its TTL).</summary>
    public IReadOnlyList<CommandSession> All => [.. _sessions.Values];

    public IReadOnlyList<CommandSession> Running => [.. _sessions.Values.Where(s => !s.IsFinished)];

    public void KillAll()
    {
        foreach (var session in _sessions.Values)
        {
            session.Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions.Values)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        _sessions.Clear();
    }
}
