using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Files;

/// <summary>
/// File operations confined to a root directory: every path is resolved by the kernel with
/// <c>openat2(RESOLVE_IN_ROOT)</c>, so <c>..</c> and symbolic links (absolute or relative) can never leave the root.
/// </summary>
/// <remarks>Paths are never handed to a shell. Thread-safe: each call opens its own descriptors.</remarks>
internal sealed class RootedFileSystem : IDisposable
{
    private const ulong InRoot = LibC.RESOLVE_IN_ROOT | LibC.RESOLVE_NO_MAGICLINKS;
    private const ulong Beneath = LibC.RESOLVE_BENEATH | LibC.RESOLVE_NO_SYMLINKS | LibC.RESOLVE_NO_MAGICLINKS;
    private readonly SafeFileHandle _root;

    private RootedFileSystem(SafeFileHandle root) => _root = root;

    public int RootFd => (int)_root.DangerousGetHandle();

    /// <summary>Opens <paramref name="hostDirectory"/> (for a running box: <c>/proc/&lt;pid&gt;/root</c>) as the root.</summary>
    public static RootedFileSystem Open(string hostDirectory)
    {
        int fd = LibC.Open(hostDirectory, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "open root", hostDirectory);
        }

        return new RootedFileSystem(new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>Normalises an absolute in-box path to the form passed to openat2 ("." for the root).</summary>
    public static string Relative(string absolutePath)
    {
        if (absolutePath.Contains('\0', StringComparison.Ordinal))
        {
            throw new BoxFileException(BoxFileError.InvalidPath, "Path contains a NUL character");
        }

        string trimmed = absolutePath.TrimStart('/');
        return trimmed.Length == 0 ? "." : trimmed;
    }

    public SafeFileHandle OpenRead(string path, out FileStatus status)
    {
        var handle = OpenHandle(path, LibC.O_RDONLY, 0, InRoot, "open");
        status = Stat(handle, path);
        if (status.IsDirectory)
        {
            handle.Dispose();
            throw new BoxFileException(BoxFileError.IsDirectory, $"Is a directory: '{path}'");
        }

        return handle;
    }

    public SafeFileHandle OpenDirectory(string path) => OpenHandle(path, LibC.O_RDONLY | LibC.O_DIRECTORY, 0, InRoot, "open directory");

    public FileStatus Stat(string path)
    {
        using var handle = OpenHandle(path, LibC.O_PATH, 0, InRoot, "stat");
        return Stat(handle, path);
    }

    public static FileStatus Stat(SafeFileHandle handle, string path)
    {
        if (LibC.Statx((int)handle.DangerousGetHandle(), "", LibC.AT_EMPTY_PATH, out var status) != 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "stat", path);
        }

        return status;
    }

    /// <summary>Creates or truncates a regular file, creating missing parent directories.</summary>
    public SafeFileHandle Create(string path, uint mode = 0x1A4 /* 0644 */)
    {
        string parent = ParentOf(path);
        CreateDirectories(parent);
        var handle = OpenHandle(path, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC, mode, InRoot, "create");
        var status = Stat(handle, path);
        if (!status.IsRegularFile)
        {
            handle.Dispose();
            throw new BoxFileException(BoxFileError.IsDirectory, $"Not a regular file: '{path}'");
        }

        return handle;
    }

    /// <summary><c>mkdir -p</c> inside the root.</summary>
    public void CreateDirectories(string path, uint mode = 0x1ED /* 0755 */)
    {
        string relative = Relative(path);
        if (relative == ".")
        {
            return;
        }

        string[] parts = relative.Split('/', StringSplitOptions.RemoveEmptyEntries);
        string prefix = "";
        for (int i = 0; i < parts.Length; i++)
        {
            string parentPrefix = prefix.Length == 0 ? "." : prefix;
            prefix = prefix.Length == 0 ? parts[i] : prefix + "/" + parts[i];
            if (parts[i] is "." or "..")
            {
                continue;
            }

            int fd = LibC.OpenAt2(RootFd, prefix, LibC.O_PATH | LibC.O_DIRECTORY, 0, InRoot);
            if (fd >= 0)
            {
                LibC.Close(fd);
                continue;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != LibC.ENOENT)
            {
                throw FileSystemErrors.FromErrno(errno, "mkdir", "/" + prefix);
            }

            using var parent = OpenHandle(parentPrefix, LibC.O_PATH | LibC.O_DIRECTORY, 0, InRoot, "mkdir");
            if (LibC.MkdirAt((int)parent.DangerousGetHandle(), parts[i], mode) != 0)
            {
                errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.EEXIST)
                {
                    throw FileSystemErrors.FromErrno(errno, "mkdir", "/" + prefix);
                }
            }
        }
    }

    /// <summary>Opens the parent directory of <paramref name="path"/> (creating it) and returns the final name.</summary>
    public SafeFileHandle OpenParent(string path, bool create, out string name)
    {
        string relative = Relative(path).TrimEnd('/');
        int slash = relative.LastIndexOf('/');
        name = slash < 0 ? relative : relative[(slash + 1)..];
        if (name is "." or ".." or "")
        {
            throw new BoxFileException(BoxFileError.InvalidPath, $"Invalid path: '{path}'");
        }

        string parent = slash < 0 ? "." : relative[..slash];
        if (create)
        {
            CreateDirectories(parent);
        }

        return OpenHandle(parent, LibC.O_PATH | LibC.O_DIRECTORY, 0, InRoot, "open parent");
    }

    /// <summary>Removes a file, symlink or directory tree without following symlinks. Missing paths are ignored.</summary>
    public void RemoveAll(string path)
    {
        using var parent = OpenParent(path, create: false, out string name);
        RemoveEntry((int)parent.DangerousGetHandle(), name);
    }

    /// <summary>Removes everything inside a directory (an opaque-whiteout), keeping the directory itself.</summary>
    public void ClearDirectory(string path)
    {
        SafeFileHandle dir;
        try
        {
            dir = OpenHandle(path, LibC.O_RDONLY | LibC.O_DIRECTORY, 0, InRoot, "open directory");
        }
        catch (BoxFileException e) when (e.Error == BoxFileError.NotFound)
        {
            return;
        }

        using (dir)
        {
            int fd = (int)dir.DangerousGetHandle();
            foreach (var (child, _) in LibC.ListDirectory(fd))
            {
                RemoveEntry(fd, child);
            }
        }
    }

    private static void RemoveEntry(int parentFd, string name)
    {
        if (LibC.UnlinkAt(parentFd, name, 0) == 0)
        {
            return;
        }

        int errno = Marshal.GetLastPInvokeError();
        if (errno == LibC.ENOENT)
        {
            return;
        }

        if (errno != LibC.EISDIR && errno != LibC.EPERM)
        {
            throw FileSystemErrors.FromErrno(errno, "remove", name);
        }

        int dirFd = LibC.OpenAt2(parentFd, name, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0, Beneath);
        if (dirFd < 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "remove", name);
        }

        try
        {
            foreach (var (child, _) in LibC.ListDirectory(dirFd))
            {
                RemoveEntry(dirFd, child);
            }
        }
        finally
        {
            LibC.Close(dirFd);
        }

        if (LibC.UnlinkAt(parentFd, name, LibC.AT_REMOVEDIR) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            if (errno != LibC.ENOENT)
            {
                throw FileSystemErrors.FromErrno(errno, "remove", name);
            }
        }
    }

    public void CreateSymlink(string path, string target)
    {
        using var parent = OpenParent(path, create: true, out string name);
        int fd = (int)parent.DangerousGetHandle();
        LibC.UnlinkAt(fd, name, 0);
        if (LibC.SymlinkAt(target, fd, name) != 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "symlink", path);
        }
    }

    public void CreateHardLink(string path, string existingPath)
    {
        using var source = OpenParent(existingPath, create: false, out string sourceName);
        using var parent = OpenParent(path, create: true, out string name);
        int fd = (int)parent.DangerousGetHandle();
        LibC.UnlinkAt(fd, name, 0);
        if (LibC.LinkAt((int)source.DangerousGetHandle(), sourceName, fd, name, 0) != 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "link", path);
        }
    }

    public void CreateFifo(string path, uint mode)
    {
        using var parent = OpenParent(path, create: true, out string name);
        int fd = (int)parent.DangerousGetHandle();
        LibC.UnlinkAt(fd, name, 0);
        if (LibC.MkfifoAt(fd, name, mode) != 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "mkfifo", path);
        }
    }

    /// <summary>Sets owner and modification time of an entry without following a final symlink (best effort).</summary>
    public void SetOwnerAndTime(string path, int uid, int gid, DateTimeOffset? modified)
    {
        using var parent = OpenParent(path, create: false, out string name);
        int fd = (int)parent.DangerousGetHandle();
        LibC.FchownAt(fd, name, uid, gid, LibC.AT_SYMLINK_NOFOLLOW);
        if (modified is { } m)
        {
            LibC.SetTimes(fd, name, m);
        }
    }

    private SafeFileHandle OpenHandle(string path, int flags, uint mode, ulong resolve, string operation)
    {
        int fd = LibC.OpenAt2(RootFd, Relative(path), flags, mode, resolve);
        if (fd < 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), operation, path);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static string ParentOf(string path)
    {
        string trimmed = path.TrimEnd('/');
        int slash = trimmed.LastIndexOf('/');
        return slash <= 0 ? "/" : trimmed[..slash];
    }

    public void Dispose() => _root.Dispose();
}
