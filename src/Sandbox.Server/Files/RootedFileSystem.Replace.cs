using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Files;

/// <summary>Atomic replacement of a file inside the root (uploads): write a temporary file, rename it over the target.</summary>
internal sealed partial class RootedFileSystem
{
    /// <summary>
    /// Starts replacing the regular file at <paramref name="path"/> (created with its parents when missing): the content
    /// goes to a new temporary file in the same directory, which <see cref="PendingFile.Commit"/> renames over the
    /// target. Until then the old file is untouched, and disposing an uncommitted file removes the temporary one.
    /// A final symbolic link is followed (inside the root) like a plain write would; the old file's mode and owner are
    /// kept. Directories, FIFOs, sockets and devices are refused.
    /// </summary>
    public PendingFile CreateReplacement(string path)
    {
        string target = FollowFinalSymlinks(path);
        var parent = OpenParent(target, create: true, out string name);
        try
        {
            int parentFd = (int)parent.DangerousGetHandle();
            uint mode = 0x1A4; // 0644
            FileStatus? existing = null;
            if (LibC.Statx(parentFd, name, LibC.AT_SYMLINK_NOFOLLOW, out var status) == 0)
            {
                if (status.IsDirectory)
                {
                    throw new BoxFileException(BoxFileError.IsDirectory, $"Is a directory: '{path}'");
                }

                if (!status.IsRegularFile && !status.IsSymlink)
                {
                    throw new BoxFileException(BoxFileError.NotRegularFile, $"Not a regular file (FIFO, socket or device): '{path}'");
                }

                if (status.IsRegularFile)
                {
                    existing = status;
                    mode = (uint)(status.Mode & 0xFFF);
                }
            }

            string stem = name.Length > 200 ? name[..200] : name;
            for (int attempt = 0; ; attempt++)
            {
                string temp = "." + stem + ".upload-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));
                int fd = Creating(() => LibC.OpenAt2(parentFd, temp, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_NOCTTY, 0x180 /* 0600 until committed */, Beneath));
                if (fd < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EEXIST && attempt < 8)
                    {
                        continue;
                    }

                    throw FileSystemErrors.FromErrno(errno, "create", path);
                }

                var handle = new SafeFileHandle(fd, ownsHandle: true);
                if (existing is { } old)
                {
                    LibC.Fchown(fd, (int)old.Uid, (int)old.Gid);
                }
                else if (_owner is { } owner)
                {
                    LibC.Fchown(fd, owner, owner); // a new file of the box belongs to box root, not host root
                }

                LibC.Fchmod(fd, mode);
                var pending = new PendingFile(parent, temp, name, handle, path, _owner);
                parent = null;
                return pending;
            }
        }
        finally
        {
            parent?.Dispose();
        }
    }

    /// <summary>Resolves symbolic links in the final component (inside the root; at most 40, like the kernel).</summary>
    private string FollowFinalSymlinks(string path)
    {
        for (int hops = 0; hops < 40; hops++)
        {
            string relative = Relative(path).TrimEnd('/');
            int slash = relative.LastIndexOf('/');
            string name = slash < 0 ? relative : relative[(slash + 1)..];
            string parentPath = slash < 0 ? "/" : "/" + relative[..slash];
            if (name is "." or ".." or "")
            {
                return path;
            }

            int parentFd = LibC.OpenAt2(RootFd, Relative(parentPath), LibC.O_PATH | LibC.O_DIRECTORY, 0, InRoot);
            if (parentFd < 0)
            {
                return path;
            }

            try
            {
                if (LibC.Statx(parentFd, name, LibC.AT_SYMLINK_NOFOLLOW, out var status) != 0 || !status.IsSymlink
                    || LibC.ReadLinkAt(parentFd, name) is not { Length: > 0 } link)
                {
                    return path;
                }

                path = link.StartsWith('/') ? link : parentPath.TrimEnd('/') + "/" + link;
            }
            finally
            {
                LibC.Close(parentFd);
            }
        }

        throw new BoxFileException(BoxFileError.PermissionDenied, $"Too many levels of symbolic links: '{path}'");
    }
}
