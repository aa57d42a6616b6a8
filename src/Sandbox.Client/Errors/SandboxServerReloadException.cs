namespace Sandbox.Client;

/// <summary>The server closed the execution stream with 1001 (going away, e.g. reloading); an attached command handle re-attaches at once.</summary>
public class SandboxServerReloadException : SandboxConnectionException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    public SandboxServerReloadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="innerException">The cause.</param>
    public SandboxServerReloadException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <inheritdoc />
    public override bool IsTransient => true;
}
