namespace Sandbox.Client;

/// <summary>
/// A service-URL identity token could not be verified (JS <c>LangSmithSandboxTokenVerificationError</c>, delta §7, §10):
/// malformed token, unknown or unsupported key, bad signature, expired, wrong audience or issuer, or the key set could not
/// be fetched.
/// </summary>
/// <remarks>The message never contains the token.</remarks>
public class SandboxTokenVerificationException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable reason.</param>
    public SandboxTokenVerificationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">The human-readable reason.</param>
    /// <param name="innerException">The cause (e.g. the failed key-set fetch).</param>
    public SandboxTokenVerificationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
