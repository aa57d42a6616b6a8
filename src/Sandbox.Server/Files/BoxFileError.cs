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
    Other,
}
