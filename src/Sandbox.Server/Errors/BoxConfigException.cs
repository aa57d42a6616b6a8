namespace Sandbox.Server.Errors;

/// <summary>A box cannot run as configured: its snapshot is not ready, or it failed to start.</summary>
internal sealed class BoxConfigException : DomainException
{
    public BoxConfigException(string message)
        : base(message)
    {
    }
}
