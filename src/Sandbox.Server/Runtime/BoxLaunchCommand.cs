using System.Diagnostics;
using System.Globalization;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Composes the command line that starts a box (see <see cref="BoxLauncher"/>): <c>unshare -m</c> running a small
/// launch script whose steps mount the box's disk, overlays, masks and staged binds in a private mount namespace, then
/// setpriv + bubblewrap with the box's namespaces, capabilities, seccomp filter, /proc, /dev, /tmp and /sys view.
/// </summary>
internal static class BoxLaunchCommand
{
    // Runs as: unshare -m --propagation private /bin/sh -c SCRIPT box-launch <mount steps...> -- bwrap ...
    // Every value arrives as a positional argument; nothing is interpolated into the script text.
    private const string LaunchScript = """
        set -e
        read -r go
        while [ "$1" != "--" ]; do
          case "$1" in
            loop) mount -o loop,nosuid,nodev "$2" "$3"; shift 3 ;;
            mkdir) mkdir -p "$2"; shift 2 ;;
            own) mkdir -p "$2"; chown "$3" "$2"; shift 3 ;;
            cd) cd "$2"; shift 2 ;;
            fstab) mount -a -T "$2"; shift 2 ;;
            mask) if [ -e "$3" ] || [ -L "$3" ]; then mount --bind "$2" "$3"; fi; shift 3 ;;
            stage) mount -t tmpfs -o "mode=$3,size=1m,nosuid,nodev" box-stage "$2"; shift 3 ;;
            home) mkdir -p "$2"; chown "$3" "$2"; chmod 0700 "$2"; shift 3 ;;
            bind) if [ -d "$2" ]; then mkdir -p "$3"; mount --rbind "$2" "$3"; else cp -- "$2" "$3"; fi; shift 3 ;;
            seccomp) exec 3<"$2"; shift 2 ;;
            *) echo "box-launch: unknown step $1" >&2; exit 2 ;;
          esac
        done
        shift
        exec "$@"
        """;

    /// <summary>
    /// Files of the box's /proc that show or change host state, masked (in addition to bwrap's read-only
    /// <c>/proc/sys</c>, <c>/proc/sysrq-trigger</c>, <c>/proc/irq</c> and <c>/proc/bus</c>), as container runtimes do.
    /// </summary>
    private static readonly string[] ProcMasks =
    [
        "/proc/kcore", "/proc/keys", "/proc/key-users", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats",
        "/proc/kallsyms", "/proc/kmsg", "/proc/config.gz", "/proc/vmallocinfo",
    ];

    private const string InitScript = "echo ready >&2; exec </dev/null >/dev/null 2>&1; exec sleep infinity 2>/dev/null || while :; do sleep 3600; done";

    /// <summary>
    /// The launcher's start info for <paramref name="spec"/>. <paramref name="layers"/> are the idmapped lower layers of
    /// its overlays (<see cref="BoxIdentity.MapLayers"/>), which must stay open until the launcher has mounted them.
    /// </summary>
    public static ProcessStartInfo Build(HostCapabilities host, BoxIdentity identity, BoxLaunchSpec spec, IdmappedLayers layers)
    {
        string merged = Path.Combine(spec.DiskDirectory, "merged");
        Directory.CreateDirectory(spec.DiskDirectory);
        var psi = new ProcessStartInfo(host.UnsharePath!)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (string arg in (string[])["-m", "--propagation", "private", "/bin/sh", "-c", LaunchScript, "box-launch"])
        {
            psi.ArgumentList.Add(arg);
        }

        if (spec.DiskImage is not null)
        {
            Add(psi, "loop", spec.DiskImage, spec.DiskDirectory);
        }

        // Without a loop disk the folders live on the host filesystem and are created here (no extra processes);
        // with one they only exist once the image is mounted, inside the launcher's mount namespace.
        bool onLoopDisk = spec.DiskImage is not null;
        MakeDirectory(psi, onLoopDisk, merged);
        string owner = identity.Base.ToString(CultureInfo.InvariantCulture);
        // Lower layers: idmapped detached mounts named /proc/<server>/fd/<n>; upper and work dirs: relative to the disk
        // folder. The overlay options a box can read in its mountinfo then name no host path.
        // All overlays are mounted, in order, by one `mount -a` over a small fstab: one mount(8) process instead of
        // one per overlay (each costs milliseconds on a busy host).
        var fstab = new System.Text.StringBuilder();
        foreach (var overlay in spec.Overlays)
        {
            string upper = Path.Combine("up", overlay.Key);
            string work = Path.Combine("wk", overlay.Key);
            // The upper dir is the root of what the box sees at the overlay's target: box root owns it.
            if (onLoopDisk)
            {
                Add(psi, "own", Path.Combine(spec.DiskDirectory, upper), owner + ":" + owner);
            }
            else
            {
                string hostUpper = Path.Combine(spec.DiskDirectory, upper);
                if (LegacyOwned(hostUpper))
                {
                    BoxIdentity.ShiftTree(hostUpper, 0, identity.Base); // written before box ids were shifted
                }

                identity.CreateOwnedDirectory(hostUpper);
            }

            MakeDirectory(psi, onLoopDisk, Path.Combine(spec.DiskDirectory, work));
            string target = overlay.Target == "/" ? merged : merged + overlay.Target;
            string lowers = string.Join(':', overlay.LowerDirs.Select(d => layers.Paths[d]));
            fstab.Append("overlay ").Append(FstabField(target)).Append(" overlay ")
                .Append(FstabField($"lowerdir={lowers},upperdir={upper},workdir={work}"))
                .Append(" 0 0\n");
        }

        if (fstab.Length > 0)
        {
            // Next to the disk folder (not in it: a loop disk is mounted over that folder).
            string fstabPath = spec.DiskDirectory.TrimEnd('/') + ".fstab";
            File.WriteAllText(fstabPath, fstab.ToString());
            Add(psi, "cd", spec.DiskDirectory);
            Add(psi, "fstab", fstabPath);
        }

        // Masks are mounted here, in the launcher's namespace: in the box they are locked mounts that cannot be removed.
        foreach (string masked in spec.MaskedFiles)
        {
            Add(psi, "mask", "/dev/null", merged + masked);
        }

        // bwrap runs as box root's host id (an unprivileged bwrap in a user namespace the server maps), so everything it
        // reads must be reachable by that id: the box root and bind sources are staged on a small tmpfs (only in the
        // launcher's mount namespace) that also holds bwrap's own working folder (/run/user/ID).
        string stage = StageDirectory(spec);
        Add(psi, "stage", stage, stage == "/run" ? "0755" : "1777");
        if (stage == "/run")
        {
            Add(psi, "home", $"/run/user/{owner}", owner + ":" + owner);
        }

        Add(psi, "bind", merged, stage + "/root");
        // Files are copied onto the stage (a bind would show its host path in the box's mountinfo); folders are bound.
        var binds = new List<(string Staged, string Destination)>();
        foreach (var bind in spec.ReadOnlyBinds)
        {
            string staged = $"{stage}/b{binds.Count.ToString(CultureInfo.InvariantCulture)}";
            Add(psi, "bind", bind.Source, staged);
            binds.Add((staged, bind.Destination));
        }

        // The box's /sys: a small read-only tmpfs holding only its own facts (see SysView).
        var sysView = new List<(string Staged, string Destination)>();
        foreach (var bind in SysView(spec))
        {
            string staged = $"{stage}/s{sysView.Count.ToString(CultureInfo.InvariantCulture)}";
            Add(psi, "bind", bind.Source, staged);
            sysView.Add((staged, bind.Destination));
        }

        if (spec.SeccompFilter is not null)
        {
            Add(psi, "seccomp", spec.SeccompFilter);
        }

        psi.ArgumentList.Add("--");
        Add(psi, host.SetprivPath!, "--reuid", owner, "--regid", owner, "--clear-groups", "--");
        Add(psi, host.BwrapPath!, "--unshare-user", "--uid", "0", "--gid", "0", "--userns-block-fd", "0", "--info-fd", "1");
        Add(psi, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup", "--hostname", "sandbox", "--die-with-parent");
        Add(psi, "--cap-drop", "ALL");
        foreach (var (name, _) in BoxCapabilities.Kept)
        {
            Add(psi, "--cap-add", name);
        }

        if (spec.SeccompFilter is not null)
        {
            Add(psi, "--seccomp", "3");
        }

        Add(psi, "--bind", stage + "/root", "/", "--proc", "/proc", "--dev", "/dev");
        Add(psi, "--size", spec.TmpfsBytes.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp");
        foreach (string masked in ProcMasks.Where(File.Exists)) // the box's /proc has the same global files as the host's
        {
            Add(psi, "--ro-bind-try", "/dev/null", masked);
        }

        foreach (var (staged, destination) in binds)
        {
            Add(psi, "--ro-bind", staged, destination);
        }

        Add(psi, "--size", "65536", "--tmpfs", "/sys");
        foreach (var (staged, destination) in sysView)
        {
            Add(psi, "--ro-bind", staged, destination);
        }

        Add(psi, "--remount-ro", "/sys");

        Add(psi, "--chdir", "/", "--", "/bin/sh", "-c", InitScript);

        return psi;
    }

    /// <summary>Host files copied into the box's /sys: CPU numbering only (glibc's get_nprocs and OpenBLAS read them).</summary>
    private static readonly string[] SysCpuFiles = ["online", "possible", "present", "kernel_max"];

    /// <summary>
    /// What the box sees under /sys, read-only: its own cgroups (the box's group is the root of its cgroup namespace,
    /// so their mountinfo lines name no host path and the files hold the box's limits: memory.limit_in_bytes,
    /// cpu.cfs_quota_us, pids.max on v1; memory.max, cpu.max, pids.max on v2) and copies of the CPU numbering files.
    /// No host device tree, firmware, DMI or kernel tunables: everything else under /sys is absent.
    /// </summary>
    internal static IEnumerable<BoxBindMount> SysView(BoxLaunchSpec spec)
    {
        foreach (var view in spec.Cgroup?.Views ?? [])
        {
            yield return view;
        }

        foreach (string name in SysCpuFiles)
        {
            string file = "/sys/devices/system/cpu/" + name;
            if (File.Exists(file))
            {
                yield return new BoxBindMount(file, file);
            }
        }
    }

    /// <summary>An fstab field: whitespace, backslash and '#' written as octal escapes (as libmount reads them).</summary>
    internal static string FstabField(string value)
    {
        var text = new System.Text.StringBuilder(value.Length);
        foreach (char c in value)
        {
            if (c is ' ' or '\t' or '\n' or '\r' or '\\' or '#')
            {
                text.Append('\\').Append(Convert.ToString(c, 8).PadLeft(3, '0'));
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    /// <summary>The launcher-only tmpfs mount point: /run, or /tmp when the data or a bind source lives under /run.</summary>
    private static string StageDirectory(BoxLaunchSpec spec)
    {
        static bool Under(string path, string dir) => (path.TrimEnd('/') + "/").StartsWith(dir + "/", StringComparison.Ordinal);
        return Directory.Exists("/run") && !Under(spec.DiskDirectory, "/run") && !spec.ReadOnlyBinds.Any(b => Under(b.Source, "/run"))
            && !spec.Overlays.SelectMany(o => o.LowerDirs).Any(d => Under(d, "/run")) ? "/run" : "/tmp";
    }

    /// <summary>True for an existing writable layer still owned by host ids 0-65535 (written before ids were shifted).</summary>
    private static bool LegacyOwned(string upper) =>
        Files.LibC.Statx(Files.LibC.AT_FDCWD, upper, Files.LibC.AT_SYMLINK_NOFOLLOW, out var status) == 0
        && status.Uid < BoxIdentity.Count;

    private static void MakeDirectory(ProcessStartInfo psi, bool deferred, string path)
    {
        if (deferred)
        {
            Add(psi, "mkdir", path);
        }
        else
        {
            Directory.CreateDirectory(path);
        }
    }

    private static void Add(ProcessStartInfo psi, params string[] args)
    {
        foreach (string arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
    }
}
