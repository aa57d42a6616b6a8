namespace Sandbox.Server.Files;

/// <summary>Kinds of file-operation failure, mapped to HTTP statuses by the data plane.</summary>
internal enum BoxFileError
{
    NotFound,
    PermissionDenied,
    IsDirectory,
    NotDirectory,
    NoSpace,
    Conflict,
    InvalidPath,

    /// <summary>A FIFO, socket or device: the file API never opens those for reading or writing (it could block).</summary>
    NotRegularFile,

    /// <summary>A directory walk hit its depth or entry bound.</summary>
    WalkLimit,

    /// <summary>Too many file operations of this box are already running.</summary>
    Busy,
    Other,
}
