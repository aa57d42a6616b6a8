using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>
/// Exclusive use of a conversation's box until disposed. Disposing hands the box back to the conversation (it is not
/// deleted, and never given to another conversation).
/// </summary>
/// <remarks>Not thread-safe; one lease serves one tool call. Dispose exactly once (further calls do nothing).</remarks>
public sealed class SandboxLease : IAsyncDisposable
{
    private readonly SandboxLeasePool _pool;
    private int _disposed;

    internal SandboxLease(SandboxLeasePool pool, ConversationSlot slot, PooledBox box, bool previousSandboxLost)
    {
        _pool = pool;
        Slot = slot;
        Box = box;
        PreviousSandboxLost = previousSandboxLost;
    }

    /// <summary>The conversation (affinity key) the box belongs to.</summary>
    public string ConversationId => Slot.ConversationId;

    /// <summary>The box. Valid until the lease is disposed.</summary>
    public SandboxInstance Sandbox => Box.Instance;

    /// <summary>
    /// True when this conversation had a box before that was reclaimed (idle timeout, max lifetime) or replaced after a
    /// failed health check: files and interpreter state of the earlier box are gone.
    /// </summary>
    public bool PreviousSandboxLost { get; }

    internal ConversationSlot Slot { get; }

    internal PooledBox Box { get; }

    /// <summary>Hands the box back to its conversation.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        _pool.Return(this);
        return ValueTask.CompletedTask;
    }
}
