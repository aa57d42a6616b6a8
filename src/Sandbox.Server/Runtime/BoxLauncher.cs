using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sandbox.Server.Diagnostics;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Starts a box: a private mount namespace that mounts the box's loop disk and overlays, then bubblewrap with new
/// user (uids 0-65535 mapped 1:1, so in-box root has no host capabilities), pid, net, ipc and uts namespaces running a
/// tiny init. Commands later enter the box with nsenter.
/// </summary>
internal sealed class BoxLauncher
{
    private const int MappedIds = 65536;

    // Runs as: unshare -m --propagation private /bin/sh -c SCRIPT box-launch <mount steps...> -- bwrap ...
    // Every value arrives as a positional argument; nothing is interpolated into the script text.
    private const string LaunchScript = """
        set -e
        while [ "$1" != "--" ]; do
          case "$1" in
            loop) mount -o loop,nosuid,nodev "$2" "$3"; shift 3 ;;
            mkdir) mkdir -p "$2"; shift 2 ;;
            fstab) mount -a -T "$2"; shift 2 ;;
            *) echo "box-launch: unknown step $1" >&2; exit 2 ;;
          esac
        done
        shift
        exec "$@"
        """;

    private const string InitScript = "echo ready >&2; exec </dev/null >/dev/null 2>&1; exec sleep infinity 2>/dev/null || while :; do sleep 3600; done";

    private readonly HostCapabilities _host;
    private readonly ILogger _logger;

    public BoxLauncher(HostCapabilities host, ILogger logger)
    {
        _host = host;
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
        // All overlays are mounted, in order, by one `mount -a` over a small fstab: one mount(8) process instead of
        // one per overlay (each costs milliseconds on a busy host).
        var fstab = new System.Text.StringBuilder();
        foreach (var overlay in spec.Overlays)
        {
            string upper = Path.Combine(spec.DiskDirectory, "up", overlay.Key);
            string work = Path.Combine(spec.DiskDirectory, "wk", overlay.Key);
            MakeDirectory(psi, onLoopDisk, upper);
            MakeDirectory(psi, onLoopDisk, work);
            string target = overlay.Target == "/" ? merged : merged + overlay.Target;
            fstab.Append("overlay ").Append(FstabField(target)).Append(" overlay ")
                .Append(FstabField($"lowerdir={string.Join(':', overlay.LowerDirs)},upperdir={upper},workdir={work}"))
                .Append(" 0 0\n");
        }

        if (fstab.Length > 0)
        {
            // Next to the disk folder (not in it: a loop disk is mounted over that folder).
            string fstabPath = spec.DiskDirectory.TrimEnd('/') + ".fstab";
            File.WriteAllText(fstabPath, fstab.ToString());
            Add(psi, "fstab", fstabPath);
        }

        psi.ArgumentList.Add("--");
        Add(psi, _host.BwrapPath!, "--unshare-user", "--userns-block-fd", "0", "--info-fd", "1");
        Add(psi, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--hostname", "sandbox", "--die-with-parent");
        Add(psi, "--bind", merged, "/", "--proc", "/proc", "--dev", "/dev");
        Add(psi, "--size", spec.TmpfsBytes.ToString(CultureInfo.InvariantCulture), "--tmpfs", "/tmp");
        foreach (string masked in spec.MaskedFiles)
        {
            Add(psi, "--ro-bind-try", "/dev/null", masked);
        }

        foreach (var bind in spec.ReadOnlyBinds)
        {
            Add(psi, "--ro-bind", bind.Source, bind.Destination);
        }

        Add(psi, "--chdir", "/", "--", "/bin/sh", "-c", InitScript);

        // Forked from the long-lived spawner thread: --die-with-parent then means "dies with the server process".
        var process = await BoxProcessSpawner.Shared.StartAsync(psi).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            int initPid = await ReadChildPidAsync(process, timeout.Token).ConfigureAwait(false);
            string map = $"0 0 {MappedIds}";
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
            return new RunningBox(process, initPid, spec.Cgroup);
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
