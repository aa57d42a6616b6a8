using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Files;

/// <summary>
/// File operations confined to a root directory: every path is resolved by the kernel with
/// <c>openat2(RESOLVE_IN_ROOT)</c>, so <c>..</c> and symbolic links (absolute or relative) can never leave the root.
/// </summary>
/// <remarks>
/// Paths are never handed to a shell. Thread-safe: each call opens its own descriptors. Atomic replacement (uploads) is
/// in <c>RootedFileSystem.Replace.cs</c>; removing trees in <see cref="FileTree"/>.
/// </remarks>
internal sealed partial class RootedFileSystem : IDisposable
{
    private const ulong InRoot = LibC.RESOLVE_IN_ROOT | LibC.RESOLVE_NO_MAGICLINKS;
    private const ulong Beneath = LibC.RESOLVE_BENEATH | LibC.RESOLVE_NO_SYMLINKS | LibC.RESOLVE_NO_MAGICLINKS;
    private const int MaxNameBytes = 255;
    private const int MaxPathBytes = 4096;
    private readonly SafeFileHandle _root;
    private readonly int? _owner;

    private RootedFileSystem(SafeFileHandle root, int? owner)
    {
        _root = root;
        _owner = owner;
    }

    public int RootFd => (int)_root.DangerousGetHandle();

    /// <summary>Opens <paramref name="hostDirectory"/> (for a running box: <c>/proc/&lt;pid&gt;/root</c>) as the root.</summary>
    /// <param name="hostDirectory">The root.</param>
    /// <param name="owner">
    /// For a box: the host uid/gid of box root. Entries this server creates are given to it (they would otherwise belong
    /// to host root, an id the box does not have), and owners passed to <see cref="SetOwnerAndTime"/> are box ids.
    /// </param>
    public static RootedFileSystem Open(string hostDirectory, int? owner = null)
    {
        int fd = LibC.Open(hostDirectory, LibC.O_PATH | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "open root", hostDirectory);
        }

        return new RootedFileSystem(new SafeFileHandle(fd, ownsHandle: true), owner);
    }

    /// <summary>Normalises an absolute in-box path to the form passed to openat2 ("." for the root).</summary>
    public static string Relative(string absolutePath)
    {
        if (absolutePath.Contains('\0', StringComparison.Ordinal))
        {
            throw new BoxFileException(BoxFileError.InvalidPath, "Path contains a NUL character");
        }

        string trimmed = absolutePath.TrimStart('/');
        CheckLength(trimmed, absolutePath);
        return trimmed.Length == 0 ? "." : trimmed;
    }

    /// <summary>Linux limits: 255 bytes per name, 4096 per path. Longer ones are refused up front with a typed error.</summary>
    private static void CheckLength(string path, string original)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(path) >= MaxPathBytes)
        {
            throw new BoxFileException(BoxFileError.InvalidPath, $"Path too long: at most {MaxPathBytes - 1} bytes (got {System.Text.Encoding.UTF8.GetByteCount(original)})");
        }

        foreach (var segment in path.Split('/'))
        {
            if (System.Text.Encoding.UTF8.GetByteCount(segment) > MaxNameBytes)
            {
                throw new BoxFileException(BoxFileError.InvalidPath, $"File name too long: a path segment has more than {MaxNameBytes} bytes ('{segment[..16]}...')");
            }
        }
    }

    /// <summary>
    /// Opens a regular file for reading. The path is first opened with <c>O_PATH</c> (which never blocks and opens
    /// nothing) and checked: directories, FIFOs, sockets and devices are refused before any real open, so a box
    /// cannot make the server wait on a FIFO or touch a device.
    /// </summary>
    public SafeFileHandle OpenRead(string path, out FileStatus status)
    {
        using var pathHandle = OpenHandle(path, LibC.O_PATH, 0, InRoot, "open");
        status = Stat(pathHandle, path);
        return ReopenRegular(pathHandle, status, path);
    }

    /// <summary>Reopens an <c>O_PATH</c> descriptor of a regular file for reading (the same inode; never blocks).</summary>
    internal static SafeFileHandle ReopenRegular(SafeFileHandle pathHandle, in FileStatus status, string path)
    {
        if (status.IsDirectory)
        {
            throw new BoxFileException(BoxFileError.IsDirectory, $"Is a directory: '{path}'");
        }

        if (!status.IsRegularFile)
        {
            throw new BoxFileException(BoxFileError.NotRegularFile, $"Not a regular file (FIFO, socket or device): '{path}'");
        }

        string reopen = "/proc/self/fd/" + pathHandle.DangerousGetHandle().ToString(System.Globalization.CultureInfo.InvariantCulture);
        int fd = LibC.Open(reopen, LibC.O_RDONLY | LibC.O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "open", path);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
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
        // O_NONBLOCK: opening an existing FIFO for writing fails at once (ENXIO) instead of waiting for a reader.
        int created = Creating(() => LibC.OpenAt2(RootFd, Relative(path), LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC | LibC.O_NONBLOCK | LibC.O_NOCTTY, mode, InRoot));
        if (created < 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "create", path);
        }

        var handle = new SafeFileHandle(created, ownsHandle: true);
        var status = Stat(handle, path);
        if (!status.IsRegularFile)
        {
            handle.Dispose();
            throw new BoxFileException(status.IsDirectory ? BoxFileError.IsDirectory : BoxFileError.NotRegularFile, $"Not a regular file: '{path}'");
        }

        if (_owner is { } owner && status.Uid == 0)
        {
            LibC.Fchown((int)handle.DangerousGetHandle(), owner, owner); // created just now, by this server
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
            string part = parts[i];
            if (Creating(() => LibC.MkdirAt((int)parent.DangerousGetHandle(), part, mode)) != 0)
            {
                errno = Marshal.GetLastPInvokeError();
                if (errno != LibC.EEXIST)
                {
                    throw FileSystemErrors.FromErrno(errno, "mkdir", "/" + prefix);
                }
            }
            else
            {
                GiveToOwner((int)parent.DangerousGetHandle(), parts[i]);
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
        FileTree.RemoveEntry((int)parent.DangerousGetHandle(), name);
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
                FileTree.RemoveEntry(fd, child);
            }
        }
    }

    public void CreateSymlink(string path, string target)
    {
        using var parent = OpenParent(path, create: true, out string name);
        int fd = (int)parent.DangerousGetHandle();
        LibC.UnlinkAt(fd, name, 0);
        if (Creating(() => LibC.SymlinkAt(target, fd, name)) != 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "symlink", path);
        }

        GiveToOwner(fd, name);
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
        if (Creating(() => LibC.MkfifoAt(fd, name, mode)) != 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "mkfifo", path);
        }

        GiveToOwner(fd, name);
    }

    /// <summary>Sets owner and modification time of an entry without following a final symlink (best effort).</summary>
    public void SetOwnerAndTime(string path, int uid, int gid, DateTimeOffset? modified)
    {
        using var parent = OpenParent(path, create: false, out string name);
        int fd = (int)parent.DangerousGetHandle();
        int shift = _owner ?? 0;
        LibC.FchownAt(fd, name, uid + shift, gid + shift, LibC.AT_SYMLINK_NOFOLLOW);
        if (modified is { } m)
        {
            LibC.SetTimes(fd, name, m);
        }
    }

    /// <summary>
    /// Runs a call that creates an entry; inside a box, where it fails with EOVERFLOW (a filesystem the box mounted in
    /// its own user namespace, e.g. its /tmp, where host root has no id), runs it again as box root.
    /// </summary>
    private int Creating(Func<int> create)
    {
        int rc = create();
        if (rc < 0 && _owner is { } owner && Marshal.GetLastPInvokeError() == LibC.EOVERFLOW)
        {
            rc = LibC.AsFilesystemId(owner, create);
        }

        return rc;
    }

    /// <summary>Gives an entry this server just created to box root (no-op outside a box).</summary>
    private void GiveToOwner(int parentFd, string name)
    {
        if (_owner is { } owner)
        {
            LibC.FchownAt(parentFd, name, owner, owner, LibC.AT_SYMLINK_NOFOLLOW);
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
