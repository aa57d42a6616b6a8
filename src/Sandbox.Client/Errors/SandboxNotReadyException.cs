namespace Sandbox.Client;

/// <summary>The sandbox is not ready for the operation yet (Py <c>SandboxNotReadyError</c>): data-plane 400 <c>NotReady</c>,
/// data-plane 503 <c>ServiceUnavailable</c> ("Sandbox is starting"; Python's mapping — JS raises its generic error), or a
/// proxy update refused with 400 <c>InvalidRequest</c>.</summary>
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
