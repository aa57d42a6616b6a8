namespace Sandbox.AgentTools;

/// <summary>A conversation's place in the pool: its box (if any) and the gate that serializes its leases.</summary>
internal sealed class ConversationSlot(string conversationId)
{
    public string ConversationId { get; } = conversationId;

    /// <summary>One lease at a time per conversation: calls on one interpreter must not interleave.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>The conversation's box; only read or written while holding <see cref="Gate"/> or the pool lock.</summary>
    public PooledBox? Box { get; set; }

    /// <summary>Renters holding or waiting for the gate; guarded by the pool lock.</summary>
    public int Users { get; set; }

    /// <summary>The conversation's previous box was reclaimed or replaced; the next lease reports it once.</summary>
    public bool StateLostPending { get; set; }

    /// <summary>When the box was reclaimed; used to forget the slot eventually.</summary>
    public DateTimeOffset? LostAt { get; set; }
}
