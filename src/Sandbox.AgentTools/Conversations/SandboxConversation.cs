using Microsoft.Agents.AI;

namespace Sandbox.AgentTools;

/// <summary>Conversation ids of the framework sources the tools resolve on their own, so a host can release their boxes.</summary>
public static class SandboxConversation
{
    /// <summary>Key in an Agent Framework session's <see cref="AgentSession.StateBag"/> that holds the session's sandbox conversation id.</summary>
    public const string AgentSessionStateKey = "sandbox.conversation_id";

    /// <summary>
    /// The conversation id of an Agent Framework session (created and stored in its state bag on first use, so a serialized and
    /// restored session keeps its box). Pass it to <see cref="SandboxLeasePool.ReleaseConversationAsync"/> when the session ends.
    /// </summary>
    /// <param name="session">The agent session.</param>
    /// <returns>The id the tools use for calls made in that session.</returns>
    public static string Of(AgentSession session) => ConversationResolution.ForAgentSession(session);

    /// <summary>Ends an Agent Framework session's conversation: its box is deleted; a later call in the session gets a fresh one.</summary>
    /// <param name="pool">The pool.</param>
    /// <param name="session">The agent session.</param>
    /// <param name="cancellationToken">Cancels waiting for a running call.</param>
    /// <returns>A task that completes when the box is deleted.</returns>
    public static ValueTask ReleaseConversationAsync(this SandboxLeasePool pool, AgentSession session, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        return pool.ReleaseConversationAsync(Of(session), cancellationToken);
    }
}
