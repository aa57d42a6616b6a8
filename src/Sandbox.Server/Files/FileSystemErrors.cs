namespace Sandbox.Server.Files;

/// <summary>Maps errno values of file operations to <see cref="BoxFileException"/>.</summary>
internal static class FileSystemErrors
{
    public static BoxFileException FromErrno(int errno, string operation, string? path = null)
    {
        string where = path is null ? "" : $" '{path}'";
        return errno switch
        {
            LibC.ENOENT => new BoxFileException(BoxFileError.NotFound, $"No such file or directory:{where}"),
            LibC.ENOTDIR => new BoxFileException(BoxFileError.NotFound, $"Not a directory: a component of{where} is not a directory"),
            LibC.EACCES or LibC.EPERM => new BoxFileException(BoxFileError.PermissionDenied, $"Permission denied:{where}"),
            LibC.EISDIR => new BoxFileException(BoxFileError.IsDirectory, $"Is a directory:{where}"),
            LibC.ENOSPC => new BoxFileException(BoxFileError.NoSpace, $"No space left on the sandbox filesystem while writing{where}"),
            LibC.ELOOP => new BoxFileException(BoxFileError.PermissionDenied, $"Too many levels of symbolic links:{where}"),
            LibC.EXDEV => new BoxFileException(BoxFileError.PermissionDenied, $"Path escapes the sandbox root:{where}"),
            LibC.ENAMETOOLONG => new BoxFileException(BoxFileError.InvalidPath, $"File name too long:{where} (at most 255 bytes per path segment and 4096 per path)"),
            LibC.ENXIO => new BoxFileException(BoxFileError.NotRegularFile, $"Not a regular file:{where}"),
            LibC.EEXIST => new BoxFileException(BoxFileError.Conflict, $"File exists:{where}"),
            _ => new BoxFileException(BoxFileError.Other, $"{operation} failed{where}: errno {errno}"),
        };
    }
}
