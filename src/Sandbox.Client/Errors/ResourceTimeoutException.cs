namespace Sandbox.Client;

/// <summary>
/// A resource did not reach the expected state in time (Py <c>ResourceTimeoutError</c>). The message ends with
/// <c> (last_status: X)</c> when the last observed status is known.
/// </summary>
public class ResourceTimeoutException : SandboxException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The human-readable message (without the status suffix).</param>
    /// <param name="resourceType"><c>sandbox</c> or <c>snapshot</c>.</param>
    /// <param name="lastStatus">The last status observed before giving up.</param>
    public ResourceTimeoutException(string message, string? resourceType = null, string? lastStatus = null)
        : base(lastStatus is null ? message : $"{message} (last_status: {lastStatus})")
    {
        ResourceType = resourceType;
        LastStatus = lastStatus;
    }

    /// <summary><c>sandbox</c> or <c>snapshot</c>.</summary>
    public string? ResourceType { get; }

    /// <summary>The last status observed before giving up.</summary>
    public string? LastStatus { get; }

    /// <inheritdoc />
    public override bool IsTransient => true;
}
