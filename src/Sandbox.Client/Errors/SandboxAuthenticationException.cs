namespace Sandbox.Client;

/// <summary>The API key is missing, invalid or lacks permission (HTTP 401/403; Py <c>SandboxAuthenticationError</c>).</summary>
public class SandboxAuthenticationException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    public SandboxAuthenticationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="innerException">The cause.</param>
    public SandboxAuthenticationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
