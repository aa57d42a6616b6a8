namespace Sandbox.Client;

/// <summary>A sandbox, snapshot or file does not exist (HTTP 404; Py <c>ResourceNotFoundError</c>).</summary>
public class ResourceNotFoundException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message.</param>
    /// <param name="resourceType"><c>sandbox</c>, <c>snapshot</c>, <c>file</c>, or null when unknown.</param>
    public ResourceNotFoundException(string message, string? resourceType = null)
        : base(message)
    {
        ResourceType = resourceType;
    }

    /// <summary><c>sandbox</c>, <c>snapshot</c>, <c>file</c>, or null when the endpoint does not say.</summary>
    public string? ResourceType { get; }
}
