using System.Globalization;
using System.Runtime.InteropServices;

namespace Sandbox.Server.Commands;

/// <summary>
/// Sets the window size of a PTY command (local-server extension frame <c>{"type":"resize","cols":C,"rows":R}</c> on
/// <c>/execute/ws</c>). The PTY belongs to <c>script</c> inside the box; the server finds the first descendant of the
/// command's host process whose stdin is a <c>/dev/pts/N</c>, reopens that terminal through <c>/proc/PID/fd/0</c> and
/// applies <c>TIOCSWINSZ</c>, so the kernel sends SIGWINCH to the terminal's foreground process group.
/// </summary>
internal static partial class PtyWindow
{
    /// <summary>The extension frame's type.</summary>
    public const string FrameType = "resize";

    private const int O_RDWR = 2;
    private const int O_NOCTTY = 0x100;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;
    private const ulong TIOCSWINSZ = 0x5414;
    private const int MaxDescendants = 256;

    [StructLayout(LayoutKind.Sequential)]
    private struct WinSize
    {
        public ushort Rows;
        public ushort Cols;
        public ushort XPixel;
        public ushort YPixel;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, ulong request, ref WinSize size);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    /// <summary>Applies the size to the terminal of the command whose host process is <paramref name="hostPid"/>.</summary>
    /// <returns>False when no terminal was found (not a PTY command, or it has exited) or the size is out of range.</returns>
    public static bool TrySetSize(int hostPid, int cols, int rows)
    {
        if (cols is < 1 or > 1000 || rows is < 1 or > 1000)
        {
            return false;
        }

        foreach (int pid in Descendants(hostPid))
        {
            string fd0 = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd/0";
            string? target;
            try
            {
                target = new FileInfo(fd0).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (target is null || !target.StartsWith("/dev/pts/", StringComparison.Ordinal))
            {
                continue;
            }

            int fd = Open(fd0, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0)
            {
                continue;
            }

            try
            {
                var size = new WinSize { Rows = (ushort)rows, Cols = (ushort)cols };
                return Ioctl(fd, TIOCSWINSZ, ref size) == 0;
            }
            finally
            {
                _ = Close(fd);
            }
        }

        return false;
    }

    /// <summary>Descendants of <paramref name="root"/> in breadth-first order (from <c>/proc/PID/task/TID/children</c>).</summary>
    private static IEnumerable<int> Descendants(int root)
    {
        var queue = new Queue<int>();
        queue.Enqueue(root);
        int seen = 0;
        while (queue.Count > 0 && seen < MaxDescendants)
        {
            int pid = queue.Dequeue();
            seen++;
            if (pid != root)
            {
                yield return pid;
            }

            string tasks = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task";
            string[] taskDirs;
            try
            {
                taskDirs = Directory.GetDirectories(tasks);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (string task in taskDirs)
            {
                string text;
                try
                {
                    text = File.ReadAllText(Path.Combine(task, "children"));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    continue;
                }

                foreach (string child in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (int.TryParse(child, NumberStyles.Integer, CultureInfo.InvariantCulture, out int c))
                    {
                        queue.Enqueue(c);
                    }
                }
            }
        }
    }
}
