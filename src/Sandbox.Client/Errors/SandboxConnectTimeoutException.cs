namespace Sandbox.Client;

/// <summary>
/// The TCP/TLS connect or the WebSocket opening handshake failed or timed out (Py <c>SandboxConnectTimeoutError</c>).
/// </summary>
public class SandboxConnectTimeoutException : SandboxRetryableConnectionException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    public SandboxConnectTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="innerException">The cause.</param>
    public SandboxConnectTimeoutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
