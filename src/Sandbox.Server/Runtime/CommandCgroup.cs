using System.Globalization;
using Sandbox.Server.Files;

namespace Sandbox.Server.Runtime;

/// <summary>The cgroup of one command (its whole process tree, including daemonised children).</summary>
internal sealed class CommandCgroup
{
    private readonly CgroupMode _mode;
    private readonly string? _group;

    public CommandCgroup(CgroupMode mode, string? group, IReadOnlyList<string> joinFiles)
    {
        _mode = mode;
        _group = group;
        JoinFiles = joinFiles;
    }

    public IReadOnlyList<string> JoinFiles { get; }

    public bool CanKillTree => _group is not null;

    /// <summary>SIGKILLs every process in the group.</summary>
    public void KillAll()
    {
        if (_group is not null)
        {
            KillAll(_mode, _group);
        }
    }

    /// <summary>
    /// SIGKILLs every process of the group except <paramref name="spare"/> (the host-side <c>nsenter</c>, which then
    /// reaps the in-box process it forked and exits with its status; killing it too would orphan that process to a
    /// reaper outside the box's pid namespace, leaving a zombie).
    /// </summary>
    public void KillAllExcept(int spare)
    {
        if (_group is null)
        {
            return;
        }

        for (int round = 0; round < 50; round++)
        {
            string[] pids;
            try
            {
                pids = File.ReadAllLines(Path.Combine(_group, "cgroup.procs"));
            }
            catch (IOException)
            {
                return;
            }

            bool killedAny = false;
            foreach (string pid in pids)
            {
                if (int.TryParse(pid, NumberStyles.Integer, CultureInfo.InvariantCulture, out int p) && p != spare)
                {
                    LibC.Kill(p, 9);
                    killedAny = true;
                }
            }

            if (!killedAny)
            {
                return;
            }
        }
    }

    /// <summary>True when no process is in the group (background processes a command started keep it busy).</summary>
    public bool IsEmpty()
    {
        if (_group is null)
        {
            return true;
        }

        try
        {
            using var reader = new StreamReader(Path.Combine(_group, "cgroup.procs"));
            return reader.ReadLine() is null;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Kills every process in the group and removes it.</summary>
    public void Remove()
    {
        if (_group is not null)
        {
            KillAndRemove(_mode, _group);
        }
    }

    internal static void KillAll(CgroupMode mode, string group)
    {
        if (mode == CgroupMode.V2 && CgroupController.TryWrite(Path.Combine(group, "cgroup.kill"), "1"))
        {
            return;
        }

        for (int round = 0; round < 50; round++)
        {
            string[] pids;
            try
            {
                pids = File.ReadAllLines(Path.Combine(group, "cgroup.procs"));
            }
            catch (IOException)
            {
                return;
            }

            if (pids.Length == 0)
            {
                return;
            }

            foreach (string pid in pids)
            {
                if (int.TryParse(pid, NumberStyles.Integer, CultureInfo.InvariantCulture, out int p))
                {
                    LibC.Kill(p, 9);
                }
            }
        }
    }

    internal static void KillAndRemove(CgroupMode mode, string group)
    {
        KillAll(mode, group);
        for (int attempt = 0; attempt < 40; attempt++)
        {
            try
            {
                if (Directory.Exists(group))
                {
                    Directory.Delete(group);
                }

                return;
            }
            catch (IOException)
            {
                Thread.Sleep(5);
            }
        }
    }
}
