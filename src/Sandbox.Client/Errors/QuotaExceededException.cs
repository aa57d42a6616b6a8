namespace Sandbox.Client;

/// <summary>A quota or rate limit was hit (HTTP 429; Py <c>QuotaExceededError</c>).</summary>
public class QuotaExceededException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="quotaType"><c>sandbox_count</c>, <c>cpu</c>, <c>memory</c>, <c>storage</c>, or null when unknown.</param>
    public QuotaExceededException(string message, string? quotaType = null)
        : base(message)
    {
        QuotaType = quotaType;
    }

    /// <summary><c>sandbox_count</c>, <c>cpu</c>, <c>memory</c>, <c>storage</c>, or null (Py leaves it unset when unknown).</summary>
    public string? QuotaType { get; }

    /// <inheritdoc />
    public override bool IsTransient => true;
}
