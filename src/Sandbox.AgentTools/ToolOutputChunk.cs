namespace Sandbox.AgentTools;

/// <summary>A piece of a <c>run_code</c> call's output, delivered to <see cref="SandboxToolOptions.OnOutput"/> while the call runs.</summary>
/// <remarks>
/// Only the user's output is delivered (never the interpreter driver's protocol lines). The concatenation of a call's
/// chunks of one stream is the whole output of that stream, before the truncation applied to the tool's result.
/// </remarks>
/// <param name="ConversationId">The conversation whose tool set ran the call.</param>
/// <param name="ToolCallId">The call id the host passed under <see cref="SandboxTools.ToolCallIdKey"/>, or null when none was given.</param>
/// <param name="Language">The call's language: <c>python</c>, <c>javascript</c> or <c>bash</c>.</param>
/// <param name="Stream">Which output stream the text came from.</param>
/// <param name="Text">The text, in the order it arrived; may end mid-line.</param>
public sealed record ToolOutputChunk(string ConversationId, string? ToolCallId, string Language, ToolOutputStream Stream, string Text);
