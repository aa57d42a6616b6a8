namespace Sandbox.Server.Snapshots.Registry;

/// <summary>Why a pull failed.</summary>
internal enum RegistryPullError
{
    /// <summary>The registry refused the credentials, or needs some and none were given.</summary>
    Unauthorized,

    /// <summary>The repository, tag or digest does not exist.</summary>
    NotFound,

    /// <summary>A downloaded manifest or blob does not match its digest (or its announced size).</summary>
    DigestMismatch,

    /// <summary>A layer is larger than <see cref="SandboxServerOptions.MaxImageLayerBytes"/>.</summary>
    TooLarge,

    /// <summary>The image has no linux/amd64 variant, or a manifest or layer format the server cannot read.</summary>
    Unsupported,

    /// <summary>The registry could not be reached or answered with an unexpected status.</summary>
    Unavailable,
}

/// <summary>A registry pull failed; the message (shown as the snapshot's status_message) never holds credentials.</summary>
internal sealed class RegistryPullException : SnapshotImportException
{
    public RegistryPullException(RegistryPullError error, string message)
        : base(message)
    {
        Error = error;
    }

    public RegistryPullException(RegistryPullError error, string message, Exception innerException)
        : base(message, innerException)
    {
        Error = error;
    }

    public RegistryPullException()
    {
    }

    public RegistryPullException(string message)
        : base(message)
    {
    }

    public RegistryPullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RegistryPullError Error { get; } = RegistryPullError.Unavailable;
}
