namespace Sandbox.Client;

/// <summary>
/// The command exceeded its deadline and was killed by the server (error frame <c>CommandTimeout</c>).
/// <see cref="SandboxOperationException.Operation"/> is <c>command</c> and <see cref="SandboxException.ErrorType"/> is
/// <c>CommandTimeout</c>.
/// </summary>
public class CommandTimeoutException : SandboxOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The server's message.</param>
    /// <param name="timeout">The command deadline that was exceeded, when known.</param>
    public CommandTimeoutException(string message, TimeSpan? timeout = null)
        : base(message, "command", "CommandTimeout")
    {
        Timeout = timeout;
    }

    /// <summary>The command deadline that was exceeded, when known.</summary>
    public TimeSpan? Timeout { get; }
}
