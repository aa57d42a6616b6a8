namespace Sandbox.Client;

/// <summary>
/// A delete was refused because other resources still use the target (HTTP 409 on <c>DELETE /snapshots/{id}</c>, e.g.
/// a snapshot that sandboxes were created from; Py <c>ResourceInUseError</c>, JS <c>LangSmithResourceInUseError</c>).
/// </summary>
/// <remarks>The SDKs define this type; they raise a plain base error for the 409. It derives from
/// <see cref="SandboxException"/>, so code that catches the base type keeps working.</remarks>
public class ResourceInUseException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="resourceType">The kind of resource, e.g. <c>snapshot</c>.</param>
    public ResourceInUseException(string message, string? resourceType = null)
        : base(message)
    {
        ResourceType = resourceType;
    }

    /// <summary>The kind of resource that is in use, e.g. <c>snapshot</c>.</summary>
    public string? ResourceType { get; }
}
