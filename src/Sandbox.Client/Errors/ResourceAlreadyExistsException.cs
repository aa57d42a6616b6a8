namespace Sandbox.Client;

/// <summary>
/// A create asked for a name that is already taken (HTTP 409 on <c>POST /boxes</c>, <c>POST /snapshots</c> or
/// <c>POST /boxes/{name}/snapshot</c>; Py <c>ResourceAlreadyExistsError</c>, JS <c>LangSmithResourceAlreadyExistsError</c>).
/// </summary>
/// <remarks>The SDKs define this type; they raise a plain base error for the 409. It derives from
/// <see cref="SandboxException"/>, so code that catches the base type keeps working.</remarks>
public class ResourceAlreadyExistsException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="resourceType">The kind of resource, e.g. <c>sandbox</c> or <c>snapshot</c>.</param>
    public ResourceAlreadyExistsException(string message, string? resourceType = null)
        : base(message)
    {
        ResourceType = resourceType;
    }

    /// <summary>The kind of resource whose name is taken, e.g. <c>sandbox</c>.</summary>
    public string? ResourceType { get; }
}
