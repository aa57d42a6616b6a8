namespace Sandbox.Server.Errors;

/// <summary>The request clashes with the current state: a name already in use, a snapshot still in use, the built-in default.</summary>
internal sealed class ConflictException : DomainException
{
    public ConflictException(string message)
        : base(message)
    {
    }
}
