namespace Sandbox.Server.Files;

/// <summary>A file operation inside a box failed; <see cref="Error"/> says how.</summary>
internal sealed class BoxFileException : IOException
{
    public BoxFileException(BoxFileError error, string message)
        : base(message)
    {
        Error = error;
    }

    public BoxFileException()
    {
    }

    public BoxFileException(string message)
        : base(message)
    {
    }

    public BoxFileException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public BoxFileError Error { get; } = BoxFileError.Other;
}
