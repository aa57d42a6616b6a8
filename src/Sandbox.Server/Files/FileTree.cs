using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Sandbox.Server.Files;

/// <summary>
/// Whole-tree operations on host folders and box roots: removal without following symbolic links and without
/// recursion (any depth, constant stack), copying with <c>cp -a</c>, and size.
/// </summary>
internal static class FileTree
{
    private const ulong Beneath = LibC.RESOLVE_BENEATH | LibC.RESOLVE_NO_SYMLINKS | LibC.RESOLVE_NO_MAGICLINKS;
    private const int RemoveBatch = 4096;

    /// <summary>Removes the host folder <paramref name="path"/> and everything in it without following symlinks (best effort).</summary>
    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                using var parent = RootedFileSystem.Open(Path.GetDirectoryName(path)!);
                parent.RemoveAll("/" + Path.GetFileName(path));
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Copies a tree preserving modes, owners, links, xattrs and overlay whiteouts (<c>cp -a</c>).</summary>
    /// <exception cref="IOException">The copy failed; the message holds cp's error output.</exception>
    public static async Task CopyAsync(string source, string destination, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(destination);
        var psi = new ProcessStartInfo("cp") { UseShellExecute = false, RedirectStandardError = true };
        foreach (string arg in (string[])["-a", "--reflink=auto", "--", source.TrimEnd('/') + "/.", destination])
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new IOException("cp could not be started");
        string stderr = await process.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new IOException($"Copying '{source}' failed: {stderr.Trim()}");
        }
    }

    /// <summary>The total size of the regular files under <paramref name="path"/> (symlinks not followed; 0 on I/O errors).</summary>
    public static long Size(string path)
    {
        try
        {
            return new DirectoryInfo(path).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true })
                .Sum(f => f.Length);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>
    /// Removes one entry of the directory <paramref name="parentFd"/>, a whole tree when it is a directory, without recursion: the
    /// entries of a non-empty subdirectory are moved up into the directory being emptied (renames inside the tree
    /// being removed), so any depth is removed with two descriptors and a constant amount of stack.
    /// </summary>
    internal static void RemoveEntry(int parentFd, string name)
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
            EmptyDirectory(dirFd, name);
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

    private static void EmptyDirectory(int dirFd, string name)
    {
        long hoisted = 0;
        while (true)
        {
            var batch = LibC.ListDirectory(dirFd, RemoveBatch);
            if (batch.Count == 0)
            {
                return;
            }

            bool progress = false;
            foreach (var (child, _) in batch)
            {
                if (LibC.UnlinkAt(dirFd, child, 0) == 0 || Marshal.GetLastPInvokeError() == LibC.ENOENT)
                {
                    progress = true;
                    continue;
                }

                if (LibC.UnlinkAt(dirFd, child, LibC.AT_REMOVEDIR) == 0)
                {
                    progress = true;
                    continue;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == LibC.ENOENT)
                {
                    progress = true;
                    continue;
                }

                if (errno is not (LibC.ENOTEMPTY or LibC.EEXIST))
                {
                    throw FileSystemErrors.FromErrno(errno, "remove", name + "/" + child);
                }

                progress |= Hoist(dirFd, child, ref hoisted);
            }

            if (!progress)
            {
                throw new BoxFileException(BoxFileError.Other, $"remove failed: '{name}' could not be emptied");
            }
        }
    }

    /// <summary>Moves the entries of the subdirectory <paramref name="child"/> into <paramref name="dirFd"/> under fresh names.</summary>
    private static bool Hoist(int dirFd, string child, ref long hoisted)
    {
        int subFd = LibC.OpenAt2(dirFd, child, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0, Beneath);
        if (subFd < 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "remove", child);
        }

        bool moved = false;
        try
        {
            foreach (var (grandchild, _) in LibC.ListDirectory(subFd, RemoveBatch))
            {
                while (true)
                {
                    string fresh = ".rm-" + (hoisted++).ToString("x", System.Globalization.CultureInfo.InvariantCulture);
                    if (LibC.RenameAt2(subFd, grandchild, dirFd, fresh, LibC.RENAME_NOREPLACE) == 0)
                    {
                        moved = true;
                        break;
                    }

                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == LibC.EEXIST)
                    {
                        continue;
                    }

                    if (errno == LibC.ENOENT)
                    {
                        break;
                    }

                    throw FileSystemErrors.FromErrno(errno, "remove", child + "/" + grandchild);
                }
            }
        }
        finally
        {
            LibC.Close(subFd);
        }

        return moved;
    }
}
