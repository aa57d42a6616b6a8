using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>One box owned by the pool, with its bookkeeping and the per-box state the tools attach to it.</summary>
internal sealed class PooledBox(SandboxInstance instance, DateTimeOffset createdAt)
{
    private IAsyncDisposable? _attachment;

    public SandboxInstance Instance { get; } = instance;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    /// <summary>When the box was last handed back (or created); the idle clock starts here.</summary>
    public DateTimeOffset LastReleasedAt { get; set; } = createdAt;

    /// <summary>The conversation the box is bound to; null while it is warm and unassigned.</summary>
    public string? ConversationId { get; set; }

    /// <summary>Gets the state attached by the tools layer (interpreter sessions, file snapshots), creating it once.</summary>
    public T GetOrAttach<T>(Func<SandboxInstance, T> factory)
        where T : class, IAsyncDisposable
    {
        if (Volatile.Read(ref _attachment) is T existing)
        {
            return existing;
        }

        T created = factory(Instance);
        IAsyncDisposable? raced = Interlocked.CompareExchange(ref _attachment, created, null);
        return raced as T ?? created;
    }

    /// <summary>Detaches and returns the attached state so the caller can dispose it.</summary>
    public IAsyncDisposable? DetachAttachment() => Interlocked.Exchange(ref _attachment, null);
}
