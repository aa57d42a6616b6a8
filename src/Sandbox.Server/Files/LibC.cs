using System.Runtime.InteropServices;

namespace Sandbox.Server.Files;

/// <summary>The few Linux system calls the server needs that .NET does not expose (path resolution confined to a root).</summary>
internal static unsafe partial class LibC
{
    public const int ENOENT = 2;
    public const int EACCES = 13;
    public const int EEXIST = 17;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ELOOP = 40;
    public const int ENOTEMPTY = 39;
    public const int EPERM = 1;
    public const int EXDEV = 18;
    public const int EAGAIN = 11;
    public const int ENAMETOOLONG = 36;
    public const int ENXIO = 6;
    public const int EBUSY = 16;

    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_REMOVEDIR = 0x200;
    public const int AT_EMPTY_PATH = 0x1000;

    public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    public const ulong RESOLVE_NO_SYMLINKS = 0x04;
    public const ulong RESOLVE_BENEATH = 0x08;
    public const ulong RESOLVE_IN_ROOT = 0x10;

    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_TRUNC = 0x200;
    public const int O_NOCTTY = 0x100;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const int O_PATH = 0x200000;

    private static readonly bool IsArm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;

    public static int O_DIRECTORY => IsArm ? 0x4000 : 0x10000;

    public static int O_NOFOLLOW => IsArm ? 0x8000 : 0x20000;

    private const long SysOpenat2 = 437;

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall4(long number, long a1, long a2, long a3, long a4);

    /// <summary>openat2(2); returns the fd or -1 with errno in <see cref="Marshal.GetLastPInvokeError"/>.</summary>
    public static int OpenAt2(int dirFd, string path, int flags, uint mode, ulong resolve)
    {
        var how = new OpenHow { Flags = (ulong)(uint)(flags | O_CLOEXEC), Mode = mode, Resolve = resolve };
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            return (int)Syscall4(SysOpenat2, dirFd, (long)p, (long)&how, sizeof(OpenHow));
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    public static partial int Dup(int fd);

    [LibraryImport("libc", EntryPoint = "mkdirat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int MkdirAt(int dirFd, string name, uint mode);

    [LibraryImport("libc", EntryPoint = "unlinkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int UnlinkAt(int dirFd, string name, int flags);

    [LibraryImport("libc", EntryPoint = "symlinkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int SymlinkAt(string target, int dirFd, string name);

    [LibraryImport("libc", EntryPoint = "linkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int LinkAt(int oldDirFd, string oldName, int newDirFd, string newName, int flags);

    [LibraryImport("libc", EntryPoint = "fchownat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int FchownAt(int dirFd, string name, int uid, int gid, int flags);

    [LibraryImport("libc", EntryPoint = "renameat2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int RenameAt2(int oldDirFd, string oldName, int newDirFd, string newName, uint flags);

    public const uint RENAME_NOREPLACE = 1;

    [LibraryImport("libc", EntryPoint = "readlinkat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial nint ReadLinkAtNative(int dirFd, string name, byte* buffer, nuint size);

    /// <summary>readlinkat(2): the target of a symbolic link, or null with errno set.</summary>
    public static string? ReadLinkAt(int dirFd, string name)
    {
        byte* buffer = stackalloc byte[4096];
        nint length = ReadLinkAtNative(dirFd, name, buffer, 4096);
        return length < 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, (int)length);
    }

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    public static partial int Fchown(int fd, int uid, int gid);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "mkfifoat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int MkfifoAt(int dirFd, string name, uint mode);

    [LibraryImport("libc", EntryPoint = "utimensat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int UtimensAt(int dirFd, string name, long* times, int flags);

    /// <summary>Sets atime and mtime of <paramref name="name"/> (not following a final symlink).</summary>
    public static int SetTimes(int dirFd, string name, DateTimeOffset modified)
    {
        long seconds = modified.ToUnixTimeSeconds();
        long* times = stackalloc long[4] { seconds, 0, seconds, 0 };
        return UtimensAt(dirFd, name, times, AT_SYMLINK_NOFOLLOW);
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int StatxNative(int dirFd, string path, int flags, uint mask, byte* buffer);

    /// <summary>statx(2) of an open fd (AT_EMPTY_PATH) or of a name relative to a directory fd.</summary>
    public static int Statx(int dirFd, string path, int flags, out FileStatus status)
    {
        byte* buffer = stackalloc byte[256];
        int rc = StatxNative(dirFd, path, flags, 0xFFF, buffer);
        if (rc != 0)
        {
            status = default;
            return rc;
        }

        status = new FileStatus(
            Mode: *(ushort*)(buffer + 28),
            Uid: *(uint*)(buffer + 20),
            Gid: *(uint*)(buffer + 24),
            Inode: *(ulong*)(buffer + 32),
            Size: *(long*)(buffer + 40),
            ModifiedSeconds: *(long*)(buffer + 112),
            ModifiedNanoseconds: *(uint*)(buffer + 120));
        return 0;
    }

    [LibraryImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
    private static partial IntPtr FdOpenDir(int fd);

    [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static partial IntPtr ReadDir(IntPtr dir);

    [LibraryImport("libc", EntryPoint = "closedir", SetLastError = true)]
    private static partial int CloseDir(IntPtr dir);

    /// <summary>Lists the entries of an open directory (the fd is duplicated; the caller keeps ownership).</summary>
    public static List<(string Name, byte Type)> ListDirectory(int dirFd, int maxEntries = int.MaxValue)
    {
        int dup = Dup(dirFd);
        if (dup < 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "open directory");
        }

        IntPtr dir = FdOpenDir(dup);
        if (dir == IntPtr.Zero)
        {
            int errno = Marshal.GetLastPInvokeError();
            Close(dup);
            throw FileSystemErrors.FromErrno(errno, "open directory");
        }

        var result = new List<(string, byte)>();
        try
        {
            // Rewind: the duplicated fd shares the offset with the original.
            RewindDir(dir);
            while (true)
            {
                IntPtr entry = ReadDir(dir);
                if (entry == IntPtr.Zero)
                {
                    break;
                }

                byte type = *((byte*)entry + 18);
                string name = Marshal.PtrToStringUTF8(entry + 19) ?? "";
                if (name is "." or "..")
                {
                    continue;
                }

                result.Add((name, type));
                if (result.Count >= maxEntries)
                {
                    break;
                }
            }
        }
        finally
        {
            CloseDir(dir);
        }

        return result;
    }

    [LibraryImport("libc", EntryPoint = "rewinddir")]
    private static partial void RewindDir(IntPtr dir);

    public const byte DT_DIR = 4;
    public const byte DT_REG = 8;
    public const byte DT_LNK = 10;
    public const byte DT_UNKNOWN = 0;

    private const int FIONREAD = 0x541B;

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlInt(SafeHandle fd, nuint request, int* value);

    /// <summary>Bytes waiting to be read from a pipe or socket (FIONREAD); -1 when the kernel cannot say.</summary>
    public static int BytesAvailable(SafeHandle fd)
    {
        int value = 0;
        return IoctlInt(fd, FIONREAD, &value) == 0 ? value : -1;
    }

    private const nuint TIOCSWINSZ = 0x5414;

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Cols;
        public ushort XPixel;
        public ushort YPixel;
    }

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlWinSize(int fd, nuint request, WinSize* size);

    /// <summary>Sets the window size of the terminal <paramref name="fd"/> (TIOCSWINSZ; the kernel signals SIGWINCH to its foreground group).</summary>
    public static bool SetWindowSize(int fd, ushort rows, ushort cols)
    {
        var size = new WinSize { Rows = rows, Cols = cols };
        return IoctlWinSize(fd, TIOCSWINSZ, &size) == 0;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    private const long SysOpenTree = 428;
    private const long SysMountSetattr = 442;
    public const int OPEN_TREE_CLONE = 1;
    public const ulong MOUNT_ATTR_RDONLY = 0x1;
    public const ulong MOUNT_ATTR_NOSUID = 0x2;
    public const ulong MOUNT_ATTR_NODEV = 0x4;
    public const ulong MOUNT_ATTR_IDMAP = 0x100000;

    [StructLayout(LayoutKind.Sequential)]
    private struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClr;
        public ulong Propagation;
        public ulong UsernsFd;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall5(long number, long a1, long a2, long a3, long a4, long a5);

    /// <summary>
    /// A detached copy of the mount at <paramref name="path"/> (<c>open_tree(OPEN_TREE_CLONE)</c>, not recursive) whose
    /// ids are shifted by the mapping of the user namespace <paramref name="userNamespaceFd"/> (<c>mount_setattr(MOUNT_ATTR_IDMAP)</c>)
    /// and which gets <paramref name="attributes"/>. Returns the mount's fd (close-on-exec) or -1 with errno.
    /// </summary>
    public static int OpenIdmappedTree(string path, int userNamespaceFd, ulong attributes)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = bytes)
        {
            fd = (int)Syscall4(SysOpenTree, AT_FDCWD, (long)p, OPEN_TREE_CLONE | O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            return -1;
        }

        var attr = new MountAttr { AttrSet = MOUNT_ATTR_IDMAP | attributes, UsernsFd = (ulong)userNamespaceFd };
        byte empty = 0;
        if (Syscall5(SysMountSetattr, fd, (long)&empty, AT_EMPTY_PATH, (long)&attr, sizeof(MountAttr)) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Close(fd);
            Marshal.SetLastPInvokeError(errno);
            return -1;
        }

        return fd;
    }

    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Lchown(string path, int uid, int gid);

    public const int EOVERFLOW = 75;
    private const long SysSetfsuid = 122;
    private const long SysSetfsgid = 123;

    /// <summary>
    /// Runs <paramref name="operation"/> (a few system calls, no await) with this thread's filesystem uid and gid set to
    /// <paramref name="id"/>, then restores 0. For creating entries on a filesystem a box mounted in its own user
    /// namespace (its /tmp), where host root has no id and gets EOVERFLOW. fsuid is per thread, so no other code sees it.
    /// </summary>
    public static int AsFilesystemId(int id, Func<int> operation)
    {
        Syscall4(SysSetfsgid, id, 0, 0, 0);
        Syscall4(SysSetfsuid, id, 0, 0, 0);
        int rc;
        int errno;
        try
        {
            rc = operation();
            errno = Marshal.GetLastPInvokeError();
        }
        finally
        {
            Syscall4(SysSetfsuid, 0, 0, 0, 0);
            Syscall4(SysSetfsgid, 0, 0, 0, 0);
        }

        Marshal.SetLastPInvokeError(errno);
        return rc;
    }

    [LibraryImport("libc", EntryPoint = "chmod", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Chmod(string path, uint mode);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();
}
