using System.Globalization;

namespace Sandbox.Server.Runtime;

/// <summary>Creates the cgroups that carry a box's limits (v1: memory, cpu, pids hierarchies; v2: one unified group).</summary>
internal sealed class CgroupController
{
    private const string RootGroup = "sandbox-server";
    private readonly HostCapabilities _host;
    private readonly string _cgroupRoot;
    private readonly int _pidsLimit;

    public CgroupController(HostCapabilities host, int pidsLimit, string cgroupRoot = "/sys/fs/cgroup")
    {
        _host = host;
        _pidsLimit = pidsLimit;
        _cgroupRoot = cgroupRoot;
    }

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
            Directory.CreateDirectory(root);
            TryWrite(Path.Combine(_cgroupRoot, "cgroup.subtree_control"), "+memory +cpu +pids");
            TryWrite(Path.Combine(root, "cgroup.subtree_control"), "+memory +cpu +pids");
            string box = Path.Combine(root, boxId);
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
            return new BoxCgroup(CgroupMode.V2, [box], [Path.Combine(init, "cgroup.procs")], box, box);
        }

        var groups = new List<string>();
        var joins = new List<string>();
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
        }

        if (_host.Pids)
        {
            pidsGroup = CreateV1(Path.Combine(_cgroupRoot, "pids"), boxId);
            Write(Path.Combine(pidsGroup, "pids.max"), _pidsLimit.ToString(CultureInfo.InvariantCulture));
            groups.Add(pidsGroup);
            joins.Add(Path.Combine(pidsGroup, "cgroup.procs"));
        }

        return new BoxCgroup(CgroupMode.V1, groups, joins, memoryGroup, pidsGroup);
    }

    /// <summary>Changes the memory and CPU limits of a running box's groups; false when the kernel refuses.</summary>
    public bool UpdateLimits(string boxId, long? memBytes, int? vcpus)
    {
        if (_host.Cgroups == CgroupMode.V2)
        {
            string box = Path.Combine(_cgroupRoot, RootGroup, boxId);
            return (!_host.Memory || memBytes is null || TryWrite(Path.Combine(box, "memory.max"), memBytes.Value.ToString(CultureInfo.InvariantCulture)))
                && (!_host.Cpu || vcpus is null || TryWrite(Path.Combine(box, "cpu.max"), $"{vcpus * 100000} 100000"));
        }

        bool ok = true;
        if (_host.Memory && memBytes is { } mem)
        {
            string group = Path.Combine(_cgroupRoot, "memory", RootGroup, boxId);
            string value = mem.ToString(CultureInfo.InvariantCulture);
            // memsw must stay >= limit: raise it first when growing, set it after when shrinking.
            TryWrite(Path.Combine(group, "memory.memsw.limit_in_bytes"), value);
            ok &= TryWrite(Path.Combine(group, "memory.limit_in_bytes"), value);
            TryWrite(Path.Combine(group, "memory.memsw.limit_in_bytes"), value);
        }

        if (_host.Cpu && vcpus is { } cpus)
        {
            ok &= TryWrite(Path.Combine(_cgroupRoot, "cpu", RootGroup, boxId, "cpu.cfs_quota_us"), (cpus * 100000).ToString(CultureInfo.InvariantCulture));
        }

        return ok;
    }

    /// <summary>
    /// Removes box groups left empty by a server that died (its boxes died with it). Only groups older than
    /// <paramref name="minimumAge"/> and without processes are touched, so boxes of other running servers are safe.
    /// </summary>
    public void RemoveStaleGroups(TimeSpan minimumAge)
    {
        var roots = _host.Cgroups == CgroupMode.V2
            ? [Path.Combine(_cgroupRoot, RootGroup)]
            : new[] { "memory", "cpu", "pids" }.Select(h => Path.Combine(_cgroupRoot, h, RootGroup));
        foreach (string root in roots.Where(Directory.Exists))
        {
            foreach (string box in Directory.GetDirectories(root))
            {
                try
                {
                    if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(box) < minimumAge || HasProcesses(box))
                    {
                        continue;
                    }

                    foreach (string sub in Directory.GetDirectories(box))
                    {
                        Directory.Delete(sub);
                    }

                    Directory.Delete(box);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // In use or raced with another server: leave it.
                }
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
        string root = Path.Combine(hierarchy, RootGroup);
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
