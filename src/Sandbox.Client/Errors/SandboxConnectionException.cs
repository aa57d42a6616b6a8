namespace Sandbox.Client;

/// <summary>The client could not talk to the server, or a stream ended unexpectedly (Py <c>SandboxConnectionError</c>).</summary>
public class SandboxConnectionException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    public SandboxConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="innerException">The cause.</param>
    public SandboxConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
