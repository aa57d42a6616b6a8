namespace Sandbox.Client;

/// <summary>A TCP tunnel into the sandbox could not be established or re-established (Py <c>TunnelError</c>).</summary>
public class TunnelException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    public TunnelException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="innerException">The cause.</param>
    public TunnelException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
