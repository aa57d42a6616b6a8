namespace Sandbox.Client;

/// <summary>A rename asked for a name that is already in use (HTTP 409 on update; Py <c>ResourceNameConflictError</c>).</summary>
public class ResourceNameConflictException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="resourceType">The kind of resource, e.g. <c>sandbox</c>.</param>
    public ResourceNameConflictException(string message, string? resourceType = null)
        : base(message)
    {
        ResourceType = resourceType;
    }

    /// <summary>The kind of resource whose name conflicts, e.g. <c>sandbox</c>.</summary>
    public string? ResourceType { get; }
}
