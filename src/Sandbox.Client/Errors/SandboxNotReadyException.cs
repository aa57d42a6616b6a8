namespace Sandbox.Client;

/// <summary>The sandbox is not ready for the operation yet (e.g. it is starting; Py <c>SandboxNotReadyError</c>).</summary>
public class SandboxNotReadyException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    public SandboxNotReadyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="innerException">The cause.</param>
    public SandboxNotReadyException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <inheritdoc />
    public override bool IsTransient => true;
}
