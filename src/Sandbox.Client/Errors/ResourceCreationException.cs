namespace Sandbox.Client;

/// <summary>
/// A sandbox or snapshot could not be created (Py <c>ResourceCreationError</c>). The message ends with <c> [ErrorType]</c>
/// when the error type is known (e.g. <c>ImagePull</c>, <c>CrashLoop</c>, <c>SandboxConfig</c>, <c>Unschedulable</c>).
/// </summary>
/// <remarks>JS raises a separate <c>LangSmithSandboxCreationError</c> for HTTP-level create failures; this client follows Py
/// and uses this one type for both (spec §9 row 7).</remarks>
public class ResourceCreationException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message (without the error-type suffix).</param>
    /// <param name="resourceType"><c>sandbox</c> or <c>snapshot</c>.</param>
    /// <param name="errorType">The creation error type.</param>
    public ResourceCreationException(string message, string? resourceType = null, string? errorType = null)
        : base(errorType is null ? message : $"{message} [{errorType}]")
    {
        ResourceType = resourceType;
        ErrorType = errorType;
    }

    /// <summary><c>sandbox</c> or <c>snapshot</c>.</summary>
    public string? ResourceType { get; }

    /// <inheritdoc />
    public override bool IsTransient => ErrorType == "Unschedulable";
}
