namespace Sandbox.Server.Commands;

/// <summary>A command could not be started inside the box (the message is safe to show to API callers).</summary>
internal sealed class CommandStartException : Exception
{
    public CommandStartException()
    {
    }

    public CommandStartException(string message)
        : base(message)
    {
    }

    public CommandStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
