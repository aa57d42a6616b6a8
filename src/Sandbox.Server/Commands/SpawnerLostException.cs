namespace Sandbox.Server.Commands;

/// <summary>A box's command spawner is gone (or cannot take this request): the command was not started by it.</summary>
internal sealed class SpawnerLostException : Exception
{
    public SpawnerLostException()
        : base("The sandbox's command spawner has stopped.")
    {
    }

    public SpawnerLostException(string message)
        : base(message)
    {
    }

    public SpawnerLostException(Exception innerException)
        : base("The sandbox's command spawner has stopped.", innerException)
    {
    }

    public SpawnerLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
