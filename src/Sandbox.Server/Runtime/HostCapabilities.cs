using Sandbox.Server.Files;

namespace Sandbox.Server.Runtime;

/// <summary>What this machine lets the server enforce, probed once at start.</summary>
internal sealed class HostCapabilities
{
    public const string MemoryLimit = "mem_bytes";
    public const string CpuLimit = "vcpus";
    public const string FsCapacityLimit = "fs_capacity_bytes";
    public const string PidsLimit = "pids";

    public required bool IsRoot { get; init; }

    public required string? BwrapPath { get; init; }

    public required string? NsenterPath { get; init; }

    public required string? UnsharePath { get; init; }

    public string? SetprivPath { get; init; }

    /// <summary>The server's <c>sandbox-box-exec</c> helper (built from Native/box-exec.c next to the server).</summary>
    public string? BoxExecPath { get; init; }

    public required CgroupMode Cgroups { get; init; }

    /// <summary>Where the cgroup hierarchies are mounted (v1: one folder per controller; v2: the unified root).</summary>
    public string CgroupRoot { get; init; } = "/sys/fs/cgroup";

    public required bool Memory { get; init; }

    public required bool Cpu { get; init; }

    public required bool Pids { get; init; }

    public required bool LoopDisks { get; init; }

    public required string? MkfsPath { get; init; }

    public required string? ScriptPath { get; init; }

    /// <summary>Why boxes cannot start here, or null when isolation is available.</summary>
    public string? IsolationUnavailableReason =>
        !OperatingSystem.IsLinux() ? "the local sandbox server needs Linux namespaces"
        : !IsRoot ? "the local sandbox server must run as root to create namespaces and cgroups"
        : BwrapPath is null ? "bubblewrap (bwrap) is not installed; run eng/install-deps.sh"
        : NsenterPath is null || UnsharePath is null || SetprivPath is null ? "util-linux (nsenter, unshare, setpriv) is not installed; run eng/install-deps.sh"
        : BoxExecPath is null ? "the sandbox-box-exec helper is missing next to the server (it is built with the C compiler; run eng/install-deps.sh and rebuild)"
        : null;

    /// <summary>Limits of the create call this machine cannot enforce.</summary>
    public IReadOnlyList<string> UnenforcedLimits
    {
        get
        {
            var list = new List<string>();
            if (!Memory)
            {
                list.Add(MemoryLimit);
            }

            if (!Cpu)
            {
                list.Add(CpuLimit);
            }

            if (!LoopDisks)
            {
                list.Add(FsCapacityLimit);
            }

            if (!Pids)
            {
                list.Add(PidsLimit);
            }

            return list;
        }
    }

    public string Describe()
    {
        string Flag(bool on) => on ? "enforced" : "NOT enforced";
        string cg = Cgroups switch { CgroupMode.V1 => "cgroup v1", CgroupMode.V2 => "cgroup v2", _ => "no cgroups" };
        return $"memory {Flag(Memory)}, vcpus {Flag(Cpu)}, pids {Flag(Pids)} ({cg}); fs capacity {Flag(LoopDisks)} (loop-mounted ext4)";
    }

    public static HostCapabilities Probe(string cgroupRoot = "/sys/fs/cgroup")
    {
        bool isRoot = OperatingSystem.IsLinux() && LibC.GetEuid() == 0;
        var mode = CgroupMode.None;
        bool memory = false, cpu = false, pids = false;
        if (isRoot && File.Exists(Path.Combine(cgroupRoot, "cgroup.controllers")))
        {
            mode = CgroupMode.V2;
            string controllers = SafeRead(Path.Combine(cgroupRoot, "cgroup.controllers"));
            memory = controllers.Contains("memory", StringComparison.Ordinal);
            cpu = controllers.Contains("cpu", StringComparison.Ordinal);
            pids = controllers.Contains("pids", StringComparison.Ordinal);
        }
        else if (isRoot && Directory.Exists(Path.Combine(cgroupRoot, "memory")))
        {
            mode = CgroupMode.V1;
            memory = CanCreateGroup(Path.Combine(cgroupRoot, "memory"));
            cpu = CanCreateGroup(Path.Combine(cgroupRoot, "cpu"));
            pids = CanCreateGroup(Path.Combine(cgroupRoot, "pids"));
        }

        string? mkfs = FindExecutable("mkfs.ext4");
        bool loop = isRoot && mkfs is not null && File.Exists("/dev/loop-control") && FindExecutable("mount") is not null;
        return new HostCapabilities
        {
            IsRoot = isRoot,
            BwrapPath = FindExecutable("bwrap"),
            NsenterPath = FindExecutable("nsenter"),
            UnsharePath = FindExecutable("unshare"),
            SetprivPath = FindExecutable("setpriv"),
            BoxExecPath = File.Exists(Path.Combine(AppContext.BaseDirectory, "sandbox-box-exec")) ? Path.Combine(AppContext.BaseDirectory, "sandbox-box-exec") : null,
            Cgroups = mode,
            CgroupRoot = cgroupRoot,
            Memory = memory,
            Cpu = cpu,
            Pids = pids,
            LoopDisks = loop,
            MkfsPath = mkfs,
            ScriptPath = FindExecutable("script"),
        };
    }

    private static bool CanCreateGroup(string hierarchy)
    {
        // Unique per probe: two servers in one process (tests, embedding) probing at once must not remove each other's.
        string probe = Path.Combine(hierarchy, $"sandbox-server-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    public static string? FindExecutable(string name)
    {
        string path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (string dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// The limits of one box this host cannot enforce (the box's <c>unenforced_limits</c>): <see cref="UnenforcedLimits"/>
    /// with the disk capacity last, and only when the box has one.
    /// </summary>
    public List<string> UnenforcedLimitsFor(bool wantsFsCapacity)
    {
        var list = UnenforcedLimits.Where(l => l != FsCapacityLimit).ToList();
        if (wantsFsCapacity && !LoopDisks)
        {
            list.Add(FsCapacityLimit);
        }

        return list;
    }
}
