using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Files;

/// <summary>
/// Walks a directory tree inside a box through file descriptors, never following symbolic links. The walk is
/// iterative (an explicit stack, one descriptor per level) and bounded in depth and in entries examined, so a box's
/// tree, however deep or wide, can neither exhaust the server's stack nor its descriptors; the caller bounds time
/// with the cancellation token.
/// </summary>
internal static class BoxFileWalker
{
    private const ulong Beneath = LibC.RESOLVE_BENEATH | LibC.RESOLVE_NO_SYMLINKS | LibC.RESOLVE_NO_MAGICLINKS;
    private static readonly HashSet<string> PseudoFileSystems = ["/proc", "/sys", "/dev"];

    /// <summary>One entry found by the walk.</summary>
    public readonly record struct Entry(string AbsolutePath, string RelativePath, FileStatus Status, int ParentFd, string Name);

    /// <summary>Bounds of one walk.</summary>
    /// <param name="MaxDepth">Directory levels below the start that may be entered; deeper directories fail the walk.</param>
    /// <param name="MaxEntries">Entries that may be examined before the walk fails.</param>
    public readonly record struct Limits(int MaxDepth, long MaxEntries);

    /// <summary>
    /// Visits entries below <paramref name="directory"/> depth-first (sorted per directory) down to
    /// <paramref name="maxDepth"/> levels (the pattern's own reach). Return false from <paramref name="visit"/> to stop.
    /// Throws <see cref="BoxFileException"/> (<see cref="BoxFileError.WalkLimit"/>) when the tree goes beyond
    /// <paramref name="limits"/>.
    /// </summary>
    public static void Walk(SafeFileHandle directory, string absolutePath, int maxDepth, Limits limits, Func<Entry, bool> visit, CancellationToken cancellationToken)
    {
        var stack = new Stack<Level>();
        long examined = 0;
        try
        {
            stack.Push(new Level(-1, absolutePath.TrimEnd('/'), "", 1, Sorted((int)directory.DangerousGetHandle(), limits, ref examined, absolutePath)));
            while (stack.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var level = stack.Peek();
                if (level.Next >= level.Names.Count)
                {
                    stack.Pop().Dispose();
                    continue;
                }

                string name = level.Names[level.Next++];
                int dirFd = level.Fd < 0 ? (int)directory.DangerousGetHandle() : level.Fd;
                if (LibC.Statx(dirFd, name, LibC.AT_SYMLINK_NOFOLLOW, out var status) != 0)
                {
                    continue;
                }

                string abs = level.Absolute + "/" + name;
                string rel = level.Relative.Length == 0 ? name : level.Relative + "/" + name;
                if (!visit(new Entry(abs, rel, status, dirFd, name)))
                {
                    return;
                }

                if (!status.IsDirectory || level.Depth >= maxDepth || PseudoFileSystems.Contains(abs))
                {
                    continue;
                }

                if (level.Depth >= limits.MaxDepth)
                {
                    throw new BoxFileException(BoxFileError.WalkLimit,
                        $"The directory tree under '{absolutePath}' is deeper than {limits.MaxDepth} levels (at '{Shorten(abs)}'); search a narrower path");
                }

                int child = LibC.OpenAt2(dirFd, name, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW, 0, Beneath);
                if (child < 0)
                {
                    continue;
                }

                List<string> names;
                try
                {
                    names = Sorted(child, limits, ref examined, absolutePath);
                }
                catch
                {
                    LibC.Close(child);
                    throw;
                }

                stack.Push(new Level(child, abs, rel, level.Depth + 1, names));
            }
        }
        finally
        {
            while (stack.Count > 0)
            {
                stack.Pop().Dispose();
            }
        }
    }

    private static List<string> Sorted(int dirFd, Limits limits, ref long examined, string root)
    {
        long room = limits.MaxEntries - examined;
        var entries = LibC.ListDirectory(dirFd, (int)Math.Min(int.MaxValue, room + 1));
        examined += entries.Count;
        if (examined > limits.MaxEntries)
        {
            throw new BoxFileException(BoxFileError.WalkLimit,
                $"The directory tree under '{root}' has more than {limits.MaxEntries} entries; search a narrower path");
        }

        var names = new List<string>(entries.Count);
        foreach (var (name, _) in entries)
        {
            names.Add(name);
        }

        names.Sort(string.CompareOrdinal);
        return names;
    }

    private static string Shorten(string path) => path.Length <= 200 ? path : path[..100] + "..." + path[^80..];

    /// <summary>
    /// Opens a regular file found by the walk for reading (no symlink following). Null when it is gone or is no longer a
    /// regular file: it is opened with <c>O_PATH</c> and checked first, so a FIFO swapped in never blocks the walk.
    /// </summary>
    public static SafeFileHandle? OpenFile(Entry entry)
    {
        int fd = LibC.OpenAt2(entry.ParentFd, entry.Name, LibC.O_PATH | LibC.O_NOFOLLOW, 0, Beneath);
        if (fd < 0)
        {
            _ = Marshal.GetLastPInvokeError();
            return null;
        }

        using var pathHandle = new SafeFileHandle(fd, ownsHandle: true);
        if (LibC.Statx(fd, "", LibC.AT_EMPTY_PATH, out var status) != 0 || !status.IsRegularFile)
        {
            return null;
        }

        try
        {
            return RootedFileSystem.ReopenRegular(pathHandle, status, entry.AbsolutePath);
        }
        catch (BoxFileException)
        {
            return null;
        }
    }

    private sealed class Level(int fd, string absolute, string relative, int depth, List<string> names) : IDisposable
    {
        public int Fd { get; } = fd;

        public string Absolute { get; } = absolute;

        public string Relative { get; } = relative;

        public int Depth { get; } = depth;

        public List<string> Names { get; } = names;

        public int Next { get; set; }

        public void Dispose()
        {
            if (Fd >= 0)
            {
                LibC.Close(Fd);
            }
        }
    }
}
