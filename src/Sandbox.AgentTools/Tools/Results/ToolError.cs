namespace Sandbox.AgentTools;

/// <summary>A failed tool call, told to the model as a value so the conversation can go on.</summary>
/// <param name="Error">What went wrong.</param>
/// <param name="ErrorType">A stable category (<c>invalid_argument</c>, <c>path_outside_workspace</c>, <c>pool_exhausted</c>, <c>sandbox_error</c>, ...).</param>
/// <param name="Hint">What to do next.</param>
internal sealed record ToolError(string Error, string ErrorType, string? Hint);
