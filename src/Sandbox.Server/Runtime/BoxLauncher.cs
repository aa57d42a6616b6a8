using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sandbox.Server.Diagnostics;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Starts a box: a private mount namespace that mounts the box's loop disk and overlays (lower layers idmapped to the
/// box's ids), then bubblewrap with new user (box ids 0-65535 = host ids <see cref="BoxIdentity.Base"/>+, so box root
/// is no host id of any significance), pid, net, ipc and uts namespaces running a tiny init. Commands later enter the
/// box through sandbox-box-exec (<see cref="Commands.CommandLauncher"/>).
/// </summary>
internal sealed class BoxLauncher
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

    private readonly HostCapabilities _host;
    private readonly BoxIdentity _identity;
    private readonly ILogger _logger;

    public BoxLauncher(HostCapabilities host, BoxIdentity identity, ILogger logger)
    {
        _host = host;
        _identity = identity;
        _logger = logger;
    }

    public async Task<RunningBox> LaunchAsync(BoxLaunchSpec spec, CancellationToken cancellationToken)
    {
        string merged = Path.Combine(spec.DiskDirectory, "merged");
        Directory.CreateDirectory(spec.DiskDirectory);
        var psi = new ProcessStartInfo(_host.UnsharePath!)
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
        string owner = _identity.Base.ToString(CultureInfo.InvariantCulture);
        // Lower layers: idmapped detached mounts named /proc/<server>/fd/<n>; upper and work dirs: relative to the disk
        // folder. The overlay options a box can read in its mountinfo then name no host path.
        using var layers = _identity.MapLayers(spec.Overlays.SelectMany(o => o.LowerDirs));
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
                    BoxIdentity.ShiftTree(hostUpper, 0, _identity.Base); // written before box ids were shifted
                }

                _identity.CreateOwnedDirectory(hostUpper);
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
        Add(psi, _host.SetprivPath!, "--reuid", owner, "--regid", owner, "--clear-groups", "--");
        Add(psi, _host.BwrapPath!, "--unshare-user", "--uid", "0", "--gid", "0", "--userns-block-fd", "0", "--info-fd", "1");
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

        // Forked from the long-lived spawner thread: --die-with-parent then means "dies with the server process".
        var process = await BoxProcessSpawner.Shared.StartAsync(psi).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            // The launcher waits for one line: first it joins the box's cgroups, so the cgroup namespace bwrap creates is
            // rooted at the box's own group (the box sees "/" in /proc/self/cgroup, not host paths).
            foreach (string join in spec.Cgroup?.InitJoinFiles ?? [])
            {
                CgroupController.Write(join, process.Id.ToString(CultureInfo.InvariantCulture));
            }

            await process.StandardInput.WriteAsync("go\n").ConfigureAwait(false);
            await process.StandardInput.FlushAsync(timeout.Token).ConfigureAwait(false);
            int initPid = await ReadChildPidAsync(process, timeout.Token).ConfigureAwait(false);
            layers.Dispose(); // the overlays are mounted (they keep their own copies of the layers)
            string map = _identity.MapLine;
            await File.WriteAllTextAsync($"/proc/{initPid}/uid_map", map, CancellationToken.None).ConfigureAwait(false);
            await File.WriteAllTextAsync($"/proc/{initPid}/gid_map", map, CancellationToken.None).ConfigureAwait(false);
            // The init waits on the block fd until we write to it, so everything in the box starts inside its cgroups
            // (written here by the server: a process moving itself into a cpu group pays for it in scheduling delay).
            foreach (string join in spec.Cgroup?.InitJoinFiles ?? [])
            {
                CgroupController.Write(join, initPid.ToString(CultureInfo.InvariantCulture));
            }

            await process.StandardInput.WriteAsync("x").ConfigureAwait(false);
            await process.StandardInput.FlushAsync(timeout.Token).ConfigureAwait(false);
            process.StandardInput.Close();
            string? line = await process.StandardError.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (line != "ready")
            {
                string rest = await ReadRestAsync(process.StandardError).ConfigureAwait(false);
                throw new BoxStartException($"The box did not start: {(line + "\n" + rest).Trim()}");
            }

            _ = DrainAsync(process, spec.BoxId);
            return new RunningBox(process, initPid, spec.Cgroup, _identity.Base, spec.SeccompFilter);
        }
        catch (Exception e) when (e is not BoxStartException)
        {
            Kill(process);
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            string stderr = await ReadRestAsync(process.StandardError).ConfigureAwait(false);
            throw new BoxStartException($"The box did not start: {(stderr.Length > 0 ? stderr.Trim() : e.Message)}", e);
        }
        catch
        {
            Kill(process);
            throw;
        }
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

    private static async Task<int> ReadChildPidAsync(Process process, CancellationToken cancellationToken)
    {
        var text = new System.Text.StringBuilder();
        while (true)
        {
            string? line = await process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new BoxStartException("The box launcher exited before reporting the box's init process: "
                    + (await ReadRestAsync(process.StandardError).ConfigureAwait(false)).Trim());
            text.Append(line);
            if (line.StartsWith('}'))
            {
                break;
            }
        }

        using var doc = JsonDocument.Parse(text.ToString());
        return doc.RootElement.GetProperty("child-pid").GetInt32();
    }

    private static async Task<string> ReadRestAsync(StreamReader reader)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            return await reader.ReadToEndAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            return "";
        }
    }

    private async Task DrainAsync(Process process, string boxId)
    {
        try
        {
            while (await process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                Log.BoxLauncherOutput(_logger, boxId, line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    internal static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: false);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
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
