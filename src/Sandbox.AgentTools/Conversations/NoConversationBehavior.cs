namespace Sandbox.AgentTools;

/// <summary>What a tool call does when no conversation can be determined for it (see <see cref="SandboxToolOptions.WhenNoConversation"/>).</summary>
public enum NoConversationBehavior
{
    /// <summary>
    /// The call is refused before any box is touched: the model gets <c>{"error_type": "no_conversation"}</c> with a hint, and
    /// the host developer sees why in the error text. The default.
    /// </summary>
    Refuse = 0,

    /// <summary>
    /// The call runs in a fresh box that no conversation has used and that is deleted when the call ends. Nothing persists
    /// between calls (files, interpreter state, an exposed port's server); every result says <c>state_lost</c>-style in its note.
    /// </summary>
    OneOffBox = 1,
}
