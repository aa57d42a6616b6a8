namespace Sandbox.AgentTools;

/// <summary>Bad tool input from the model; reported back to it as a <see cref="ToolError"/>, never thrown to the host.</summary>
internal sealed class ToolArgumentException(string message, string errorType = "invalid_argument", string? hint = null) : Exception(message)
{
    public string ErrorType { get; } = errorType;

    public string? Hint { get; } = hint;
}
