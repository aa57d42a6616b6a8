namespace Sandbox.Server.Errors;

/// <summary>A box did not become ready within the time the caller was willing to wait.</summary>
internal sealed class BoxStartTimeoutException : DomainException
{
    public BoxStartTimeoutException(string message)
        : base(message)
    {
    }
}
