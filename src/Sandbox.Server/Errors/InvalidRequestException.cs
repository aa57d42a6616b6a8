namespace Sandbox.Server.Errors;

/// <summary>A request field has a value the server cannot accept.</summary>
internal sealed class InvalidRequestException : DomainException
{
    public InvalidRequestException(string field, string message)
        : base(message)
    {
        Field = field;
    }

    /// <summary>The offending field as it is spelled on the wire (<c>run_config</c>, <c>docker_image</c>, …).</summary>
    public string Field { get; }
}
