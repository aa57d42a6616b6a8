using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// A request was rejected as invalid, by the server (HTTP 422) or by the client before anything was sent
/// (Py <c>ValidationError</c> / <c>ValueError</c>, JS <c>LangSmithValidationError</c>).
/// </summary>
/// <remarks>
/// Deliberate choice: where the Python SDK raises a bare <c>ValueError</c> for client-side checks (spec §3.8), this client
/// raises <see cref="SandboxValidationException"/> with <see cref="Field"/> set, like the JS SDK, so callers catch one type.
/// </remarks>
public class SandboxValidationException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="field">The offending field (last element of <c>loc</c> of the first entry), if known.</param>
    /// <param name="details">The full validation list of the server, if any.</param>
    public SandboxValidationException(string message, string? field = null, IReadOnlyList<ValidationErrorItem>? details = null)
        : base(message)
    {
        Field = field;
        Details = details ?? [];
    }

    /// <summary>The offending field, if known.</summary>
    public string? Field { get; }

    /// <summary>The server's validation entries (empty for client-side checks).</summary>
    public IReadOnlyList<ValidationErrorItem> Details { get; }
}
