using System.Runtime.CompilerServices;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace Sandbox.AgentTools;

/// <summary>The conversation a call belongs to, and where it came from (recorded on the span as <c>sandbox.conversation.source</c>).</summary>
internal readonly record struct ResolvedConversation(string Id, string Source, bool OneOff);

/// <summary>Finds the conversation of a call from the invocation (see the README, "Conversation model").</summary>
internal static class ConversationResolution
{
    /// <summary>Context key under which framework adapters (the Semantic Kernel filter) pass an identity-derived conversation id.</summary>
    internal const string FrameworkConversationKey = "sandbox.framework_conversation_id";

    private static readonly ConditionalWeakTable<object, string> Identities = new();

    /// <summary>A conversation id tied to the identity of <paramref name="owner"/> (a chat history object): stable for its lifetime, never shared.</summary>
    public static string IdentityKey(object owner, string prefix) =>
        Identities.GetValue(owner, _ => prefix + Guid.NewGuid().ToString("N"));

    /// <summary>The id stored in an Agent Framework session's state bag; created on first use, so it survives serializing the session.</summary>
    public static string ForAgentSession(AgentSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        lock (session)
        {
            if (session.StateBag.TryGetValue(SandboxConversation.AgentSessionStateKey, out string? id, AIJsonUtilities.DefaultOptions) && !string.IsNullOrEmpty(id))
            {
                return id;
            }

            id = "agent-session-" + Guid.NewGuid().ToString("N");
            session.StateBag.SetValue(SandboxConversation.AgentSessionStateKey, id, AIJsonUtilities.DefaultOptions);
            return id;
        }
    }

    public static ResolvedConversation? Resolve(SandboxToolContext context, SandboxToolInvocation invocation)
    {
        if (context.FixedConversationId is { } fixedId)
        {
            return new ResolvedConversation(fixedId, "fixed", OneOff: false);
        }

        IDictionary<object, object?>? items = invocation.Arguments.Context;
        if (items is not null && items.TryGetValue(SandboxTools.ConversationIdKey, out object? explicitId) && explicitId is string { Length: > 0 } given)
        {
            return new ResolvedConversation(given, "context", OneOff: false);
        }

        if (context.Options.ConversationResolver?.Invoke(invocation) is { Length: > 0 } resolved)
        {
            return new ResolvedConversation(resolved, "resolver", OneOff: false);
        }

        if (AIAgent.CurrentRunContext?.Session is { } session)
        {
            return new ResolvedConversation(ForAgentSession(session), "agent_session", OneOff: false);
        }

        if (items is not null && items.TryGetValue(FrameworkConversationKey, out object? frameworkId) && frameworkId is string { Length: > 0 } framework)
        {
            return new ResolvedConversation(framework, "chat_history", OneOff: false);
        }

        if (FunctionInvokingChatClient.CurrentContext?.Options is { } chatOptions)
        {
            if (chatOptions.AdditionalProperties is { } extra && extra.TryGetValue(SandboxTools.ConversationIdKey, out object? optionId) &&
                optionId is string { Length: > 0 } fromOptions)
            {
                return new ResolvedConversation(fromOptions, "chat_options", OneOff: false);
            }

            if (chatOptions.ConversationId is { Length: > 0 } conversationId)
            {
                return new ResolvedConversation(conversationId, "chat_conversation_id", OneOff: false);
            }
        }

        return context.Options.WhenNoConversation == NoConversationBehavior.OneOffBox
            ? new ResolvedConversation("one-off-" + Guid.NewGuid().ToString("N"), "one_off", OneOff: true)
            : null;
    }
}
