namespace Sandbox.Client;

/// <summary>The sandbox has no <c>dataplane_url</c>, so no command or file operation is possible. Raised before any request is sent.</summary>
public class DataplaneNotConfiguredException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    public DataplaneNotConfiguredException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="innerException">The cause.</param>
    public DataplaneNotConfiguredException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
