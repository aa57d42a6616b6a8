namespace Sandbox.AgentTools;

/// <summary>The resolved conversation and call id of one tool call.</summary>
internal readonly record struct ToolInvocation(string ConversationId, string? ToolCallId);
