using System.Globalization;
using Sandbox.Server.Files;

namespace Sandbox.Server.Commands;

/// <summary>
/// Sets the window size of a PTY command (local-server extension frame <c>{"type":"resize","cols":C,"rows":R}</c> on
/// <c>/execute/ws</c>). The PTY belongs to <c>script</c> inside the box; the server finds the first descendant of the
/// command's host process whose stdin is a <c>/dev/pts/N</c>, reopens that terminal through <c>/proc/PID/fd/0</c> and
/// applies <c>TIOCSWINSZ</c>, so the kernel sends SIGWINCH to the terminal's foreground process group.
/// </summary>
internal static class PtyWindow
{
    /// <summary>The extension frame's type.</summary>
    public const string FrameType = "resize";

    private const int MaxDescendants = 256;

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

            int fd = LibC.Open(fd0, LibC.O_RDWR | LibC.O_NOCTTY | LibC.O_NONBLOCK | LibC.O_CLOEXEC, 0);
            if (fd < 0)
            {
                continue;
            }

            try
            {
                return LibC.SetWindowSize(fd, (ushort)rows, (ushort)cols);
            }
            finally
            {
                _ = LibC.Close(fd);
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
