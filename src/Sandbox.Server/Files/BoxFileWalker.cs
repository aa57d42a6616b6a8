using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Files;

/// <summary>Walks a directory tree inside a box through file descriptors, never following symbolic links.</summary>
internal static class BoxFileWalker
{
    private const ulong Beneath = LibC.RESOLVE_BENEATH | LibC.RESOLVE_NO_SYMLINKS | LibC.RESOLVE_NO_MAGICLINKS;
    private static readonly HashSet<string> PseudoFileSystems = ["/proc", "/sys", "/dev"];

    /// <summary>One entry found by the walk.</summary>
    public readonly record struct Entry(string AbsolutePath, string RelativePath, FileStatus Status, int ParentFd, string Name);

    /// <summary>
    /// Visits entries below <paramref name="directory"/> breadth-first-ish (sorted per directory) down to
    /// <paramref name="maxDepth"/> levels. Return false from <paramref name="visit"/> to stop.
    /// </summary>
    public static void Walk(SafeFileHandle directory, string absolutePath, int maxDepth, Func<Entry, bool> visit, CancellationToken cancellationToken)
    {
        WalkCore((int)directory.DangerousGetHandle(), absolutePath.TrimEnd('/'), "", 1, maxDepth, visit, cancellationToken);
    }

    private static bool WalkCore(int dirFd, string absolute, string relative, int depth, int maxDepth, Func<Entry, bool> visit, CancellationToken cancellationToken)
    {
        var entries = LibC.ListDirectory(dirFd);
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var (name, _) in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (LibC.Statx(dirFd, name, LibC.AT_SYMLINK_NOFOLLOW, out var status) != 0)
            {
                continue;
            }

            string abs = absolute + "/" + name;
            string rel = relative.Length == 0 ? name : relative + "/" + name;
            if (!visit(new Entry(abs, rel, status, dirFd, name)))
            {
                return false;
            }

            if (status.IsDirectory && depth < maxDepth && !PseudoFileSystems.Contains(abs))
            {
                int child = LibC.OpenAt2(dirFd, name, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0, Beneath);
                if (child < 0)
                {
                    continue;
                }

                try
                {
                    if (!WalkCore(child, abs, rel, depth + 1, maxDepth, visit, cancellationToken))
                    {
                        return false;
                    }
                }
                finally
                {
                    LibC.Close(child);
                }
            }
        }

        return true;
    }

    /// <summary>Opens a regular file found by the walk for reading (no symlink following).</summary>
    public static SafeFileHandle? OpenFile(Entry entry)
    {
        int fd = LibC.OpenAt2(entry.ParentFd, entry.Name, LibC.O_RDONLY | LibC.O_NOFOLLOW, 0, Beneath);
        if (fd < 0)
        {
            _ = Marshal.GetLastPInvokeError();
            return null;
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }
}
