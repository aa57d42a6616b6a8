namespace Sandbox.Client;

/// <summary>
/// A command or file operation failed inside the sandbox (Py <c>SandboxOperationError</c>). The message ends with
/// <c> [ErrorType]</c> when the error type is known.
/// </summary>
public class SandboxOperationException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message (without the error-type suffix).</param>
    /// <param name="operation"><c>command</c>, <c>read</c>, <c>write</c>, <c>reconnect</c>, <c>sendInput</c>, or null.</param>
    /// <param name="errorType">The error type, e.g. <c>CommandNotFound</c>.</param>
    public SandboxOperationException(string message, string? operation = null, string? errorType = null)
        : base(errorType is null ? message : $"{message} [{errorType}]")
    {
        Operation = operation;
        ErrorType = errorType;
    }

    /// <summary><c>command</c>, <c>read</c>, <c>write</c>, <c>reconnect</c>, <c>sendInput</c>, or null.</summary>
    public string? Operation { get; }
}
