namespace Sandbox.Client;

/// <summary>
/// A connection failure worth retrying: a WebSocket upgrade rejected with 429/500/502/503/504, or a failed connect
/// (Py <c>SandboxRetryableConnectionError</c>).
/// </summary>
public class SandboxRetryableConnectionException : SandboxConnectionException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    public SandboxRetryableConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="innerException">The cause.</param>
    public SandboxRetryableConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The delay the server asked for with a numeric <c>Retry-After</c> header (delta §6.6), if any.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <inheritdoc />
    public override bool IsTransient => true;
}
