namespace Sandbox.Client;

/// <summary>
/// Root of every error raised by the sandbox client (Py <c>SandboxClientError</c>, JS <c>LangSmithSandboxError</c>).
/// </summary>
/// <remarks>
/// The message never contains the API key. When the server's structured error body carries an <c>error_id</c>, the
/// message ends with <c>(error_id=…)</c> (delta §2.3). Cancellation requested by the caller is never wrapped: it surfaces as a
/// plain <see cref="OperationCanceledException"/>.
/// </remarks>
public class SandboxException : Exception
{
    private int? _statusCode;
    private string? _errorType;
    private string? _errorId;

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">The human-readable message.</param>
    public SandboxException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the underlying cause.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="innerException">The cause.</param>
    public SandboxException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status code of the response that caused the error, when there was one.</summary>
    public int? StatusCode { get => _statusCode; init => _statusCode = value; }

    /// <summary>The machine-readable error type (<c>detail.error</c> of the body, or a client-chosen code).</summary>
    public string? ErrorType { get => _errorType; init => _errorType = value; }

    /// <summary>The server's <c>detail.error_id</c>, when present.</summary>
    public string? ErrorId { get => _errorId; init => _errorId = value; }

    /// <summary>True when retrying the same call later may succeed.</summary>
    public virtual bool IsTransient => false;

    internal void SetResponse(int? statusCode, string? errorType, string? errorId)
    {
        _statusCode ??= statusCode;
        _errorType ??= errorType;
        _errorId ??= errorId;
    }
}
