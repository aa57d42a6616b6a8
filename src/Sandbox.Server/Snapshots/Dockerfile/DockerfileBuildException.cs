namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>What went wrong in a Dockerfile build.</summary>
internal enum DockerfileBuildError
{
    /// <summary>The Dockerfile cannot be parsed (bad JSON form, missing arguments, unknown instruction).</summary>
    Syntax,

    /// <summary>The instruction or flag is valid Dockerfile but this server does not build it (multi-stage, heredocs, ADD URL, …).</summary>
    Unsupported,

    /// <summary>A COPY/ADD source leaves the build context (<c>..</c>, an absolute symlink, or a symlink pointing outside).</summary>
    ContextEscape,

    /// <summary>A COPY/ADD source or the Dockerfile is missing.</summary>
    NotFound,

    /// <summary>The FROM image could not be resolved or pulled.</summary>
    BaseImage,

    /// <summary>A RUN step exited non-zero.</summary>
    StepFailed,

    /// <summary>The build box could not be created, or the result could not be captured.</summary>
    Internal,
}

/// <summary>A Dockerfile build failure; the message names the step (<c>step 3/6 RUN …</c>) when there is one.</summary>
internal sealed class DockerfileBuildException : Exception
{
    public DockerfileBuildException(DockerfileBuildError error, string message)
        : base(message) => Error = error;

    public DockerfileBuildException(DockerfileBuildError error, string message, Exception innerException)
        : base(message, innerException) => Error = error;

    public DockerfileBuildException()
    {
    }

    public DockerfileBuildException(string message)
        : base(message)
    {
    }

    public DockerfileBuildException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DockerfileBuildError Error { get; } = DockerfileBuildError.Internal;
}
