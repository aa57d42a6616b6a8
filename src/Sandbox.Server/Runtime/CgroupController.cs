using System.Globalization;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Creates the cgroups that carry a box's limits (v1: memory, cpu, pids hierarchies; v2: one unified group).
/// </summary>
/// <remarks>
/// Every box group lives under <c>sandbox-server/server-{pid}-{start time}/</c>, named after the server process that owns
/// it, so a server can tell the groups of a dead server (removed at start, whatever their age, after killing anything
/// left in them) from those of another live server (never touched).
/// </remarks>
internal sealed class CgroupController
{
    internal const string RootGroup = "sandbox-server";
    private const string OwnerPrefix = "server-";
    private readonly HostCapabilities _host;
    private readonly string _cgroupRoot;
    private readonly int _pidsLimit;

    public CgroupController(HostCapabilities host, int pidsLimit, string cgroupRoot = "/sys/fs/cgroup")
    {
        _host = host;
        _pidsLimit = pidsLimit;
        _cgroupRoot = cgroupRoot;
    }

    /// <summary>The group (under <see cref="RootGroup"/>) of this server process: <c>server-{pid}-{start time}</c>.</summary>
    public static string OwnerGroup { get; } = OwnerPrefix + OwnerTag(Environment.ProcessId);

    /// <summary>"{pid}-{start time in clock ticks}" of a live process, or null when it is gone.</summary>
    internal static string? OwnerTag(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            // Field 22 (starttime), counted after the ')' that closes the command name (which may hold spaces).
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return pid.ToString(CultureInfo.InvariantCulture) + "-" + fields[19];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The roots of this server's box groups (one per hierarchy on v1).</summary>
    private IEnumerable<string> Hierarchies() => _host.Cgroups switch
    {
        CgroupMode.V2 => [_cgroupRoot],
        CgroupMode.V1 => new[] { "memory", "cpu", "pids" }.Select(h => Path.Combine(_cgroupRoot, h)).Where(Directory.Exists),
        _ => [],
    };

    private string BoxGroup(string hierarchy, string boxId) => Path.Combine(hierarchy, RootGroup, OwnerGroup, boxId);

    /// <summary>Creates (or re-creates) the groups of a box and writes its limits. Returns null when there are no cgroups.</summary>
    public BoxCgroup? CreateBoxGroup(string boxId, long? memBytes, int? vcpus)
    {
        if (_host.Cgroups == CgroupMode.None)
        {
            return null;
        }

        if (_host.Cgroups == CgroupMode.V2)
        {
            string root = Path.Combine(_cgroupRoot, RootGroup);
            string owner = Path.Combine(root, OwnerGroup);
            Directory.CreateDirectory(owner);
            TryWrite(Path.Combine(_cgroupRoot, "cgroup.subtree_control"), "+memory +cpu +pids");
            TryWrite(Path.Combine(root, "cgroup.subtree_control"), "+memory +cpu +pids");
            TryWrite(Path.Combine(owner, "cgroup.subtree_control"), "+memory +cpu +pids");
            string box = Path.Combine(owner, boxId);
            Directory.CreateDirectory(box);
            if (_host.Memory && memBytes is { } mem)
            {
                TryWrite(Path.Combine(box, "memory.max"), mem.ToString(CultureInfo.InvariantCulture));
                TryWrite(Path.Combine(box, "memory.swap.max"), "0");
            }

            if (_host.Cpu && vcpus is { } cpus)
            {
                TryWrite(Path.Combine(box, "cpu.max"), $"{cpus * 100000} 100000");
            }

            if (_host.Pids)
            {
                TryWrite(Path.Combine(box, "pids.max"), _pidsLimit.ToString(CultureInfo.InvariantCulture));
            }

            TryWrite(Path.Combine(box, "cgroup.subtree_control"), "+memory +cpu +pids");
            string init = Path.Combine(box, "init");
            Directory.CreateDirectory(init);
            return new BoxCgroup(CgroupMode.V2, [box], [Path.Combine(init, "cgroup.procs")], box, box, [new BoxBindMount(box, "/sys/fs/cgroup")]);
        }

        var groups = new List<string>();
        var joins = new List<string>();
        var views = new List<BoxBindMount>();
        string? memoryGroup = null;
        string? pidsGroup = null;
        if (_host.Memory)
        {
            memoryGroup = CreateV1(Path.Combine(_cgroupRoot, "memory"), boxId);
            if (memBytes is { } mem)
            {
                string value = mem.ToString(CultureInfo.InvariantCulture);
                Write(Path.Combine(memoryGroup, "memory.limit_in_bytes"), value);
                TryWrite(Path.Combine(memoryGroup, "memory.memsw.limit_in_bytes"), value);
            }

            groups.Add(memoryGroup);
            joins.Add(Path.Combine(memoryGroup, "cgroup.procs"));
            views.Add(new BoxBindMount(memoryGroup, "/sys/fs/cgroup/memory"));
        }

        if (_host.Cpu)
        {
            string cpuGroup = CreateV1(Path.Combine(_cgroupRoot, "cpu"), boxId);
            if (vcpus is { } cpus)
            {
                Write(Path.Combine(cpuGroup, "cpu.cfs_period_us"), "100000");
                Write(Path.Combine(cpuGroup, "cpu.cfs_quota_us"), (cpus * 100000).ToString(CultureInfo.InvariantCulture));
            }

            groups.Add(cpuGroup);
            joins.Add(Path.Combine(cpuGroup, "cgroup.procs"));
            views.Add(new BoxBindMount(cpuGroup, "/sys/fs/cgroup/cpu"));
        }

        if (_host.Pids)
        {
            pidsGroup = CreateV1(Path.Combine(_cgroupRoot, "pids"), boxId);
            Write(Path.Combine(pidsGroup, "pids.max"), _pidsLimit.ToString(CultureInfo.InvariantCulture));
            groups.Add(pidsGroup);
            joins.Add(Path.Combine(pidsGroup, "cgroup.procs"));
            views.Add(new BoxBindMount(pidsGroup, "/sys/fs/cgroup/pids"));
        }

        return new BoxCgroup(CgroupMode.V1, groups, joins, memoryGroup, pidsGroup, views);
    }

    /// <summary>Changes the memory and CPU limits of a running box's groups; false when the kernel refuses.</summary>
    public bool UpdateLimits(string boxId, long? memBytes, int? vcpus)
    {
        if (_host.Cgroups == CgroupMode.V2)
        {
            string box = BoxGroup(_cgroupRoot, boxId);
            return (!_host.Memory || memBytes is null || TryWrite(Path.Combine(box, "memory.max"), memBytes.Value.ToString(CultureInfo.InvariantCulture)))
                && (!_host.Cpu || vcpus is null || TryWrite(Path.Combine(box, "cpu.max"), $"{vcpus * 100000} 100000"));
        }

        bool ok = true;
        if (_host.Memory && memBytes is { } mem)
        {
            string group = BoxGroup(Path.Combine(_cgroupRoot, "memory"), boxId);
            string value = mem.ToString(CultureInfo.InvariantCulture);
            // memsw must stay >= limit: raise it first when growing, set it after when shrinking.
            TryWrite(Path.Combine(group, "memory.memsw.limit_in_bytes"), value);
            ok &= TryWrite(Path.Combine(group, "memory.limit_in_bytes"), value);
            TryWrite(Path.Combine(group, "memory.memsw.limit_in_bytes"), value);
        }

        if (_host.Cpu && vcpus is { } cpus)
        {
            ok &= TryWrite(Path.Combine(BoxGroup(Path.Combine(_cgroupRoot, "cpu"), boxId), "cpu.cfs_quota_us"), (cpus * 100000).ToString(CultureInfo.InvariantCulture));
        }

        return ok;
    }

    /// <summary>
    /// Removes what dead servers left: every <c>server-{pid}-{start}</c> group whose process is gone (whatever its age),
    /// after killing any process still in it. Groups of live servers are never touched. Groups of the older layout (a
    /// box id directly under <see cref="RootGroup"/>) are removed only when empty and older than
    /// <paramref name="legacyMinimumAge"/>, since their owner cannot be told.
    /// </summary>
    /// <returns>How many groups were removed.</returns>
    public int RemoveStaleGroups(TimeSpan legacyMinimumAge)
    {
        int removed = 0;
        foreach (string root in Hierarchies().Select(h => Path.Combine(h, RootGroup)).Where(Directory.Exists))
        {
            foreach (string group in Directory.GetDirectories(root))
            {
                string name = Path.GetFileName(group);
                try
                {
                    if (name.StartsWith(OwnerPrefix, StringComparison.Ordinal))
                    {
                        string tag = name[OwnerPrefix.Length..];
                        int dash = tag.IndexOf('-', StringComparison.Ordinal);
                        if (dash <= 0 || !int.TryParse(tag.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                            || OwnerTag(pid) == tag)
                        {
                            continue; // a live server's (or not ours to judge)
                        }

                        KillTree(group);
                        removed += RemoveTree(group);
                    }
                    else if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(group) >= legacyMinimumAge && !HasProcesses(group))
                    {
                        removed += RemoveTree(group);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // In use or raced with another server: leave it.
                }
            }
        }

        return removed;
    }

    /// <summary>Removes this server process's owner group when no box group is left in it (server shutdown).</summary>
    public void RemoveOwnGroupIfEmpty()
    {
        foreach (string hierarchy in Hierarchies())
        {
            try
            {
                Directory.Delete(Path.Combine(hierarchy, RootGroup, OwnerGroup));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Boxes of another server hosted by this process still use it.
            }
        }
    }

    private void KillTree(string group)
    {
        for (int round = 0; round < 20 && HasProcesses(group); round++)
        {
            foreach (string sub in Directory.GetDirectories(group, "*", SearchOption.AllDirectories).Append(group))
            {
                CommandCgroup.KillAll(_host.Cgroups, sub);
            }

            Thread.Sleep(10);
        }
    }

    private static int RemoveTree(string group)
    {
        int removed = 0;
        foreach (string sub in Directory.GetDirectories(group, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
        {
            RemoveGroup(sub);
            removed++;
        }

        RemoveGroup(group);
        return removed + 1;
    }

    private static void RemoveGroup(string group)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                Directory.Delete(group);
                return;
            }
            catch (IOException) when (attempt < 40)
            {
                // A killed process leaves its group a moment after it exits.
                Thread.Sleep(5);
            }
        }
    }

    private static bool HasProcesses(string group)
    {
        if (File.ReadAllText(Path.Combine(group, "cgroup.procs")).Length > 0)
        {
            return true;
        }

        return Directory.GetDirectories(group).Any(HasProcesses);
    }

    private static string CreateV1(string hierarchy, string boxId)
    {
        string root = Path.Combine(hierarchy, RootGroup, OwnerGroup);
        Directory.CreateDirectory(root);
        string box = Path.Combine(root, boxId);
        Directory.CreateDirectory(box);
        return box;
    }

    internal static void Write(string path, string value) => File.WriteAllText(path, value);

    internal static bool TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
