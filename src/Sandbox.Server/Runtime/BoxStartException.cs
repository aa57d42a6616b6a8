namespace Sandbox.Server.Runtime;

/// <summary>A box could not be started (the message is safe to show to API callers).</summary>
internal sealed class BoxStartException : Exception
{
    public BoxStartException()
    {
    }

    public BoxStartException(string message)
        : base(message)
    {
    }

    public BoxStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
