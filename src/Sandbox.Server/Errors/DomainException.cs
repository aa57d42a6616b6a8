namespace Sandbox.Server.Errors;

/// <summary>
/// A failure of the server core (boxes, snapshots, registries, commands) that the caller caused or must know about.
/// The core knows nothing of HTTP: the API edge maps each subclass to a status code and error body
/// (<c>Api/DomainErrorMapping</c>).
/// </summary>
internal abstract class DomainException : Exception
{
    protected DomainException(string message)
        : base(message)
    {
    }
}
