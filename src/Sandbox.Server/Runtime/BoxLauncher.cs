using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sandbox.Server.Diagnostics;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Starts a box: a private mount namespace that mounts the box's loop disk and overlays (lower layers idmapped to the
/// box's ids), then bubblewrap with new user (box ids 0-65535 = host ids <see cref="BoxIdentity.Base"/>+, so box root
/// is no host id of any significance), pid, net, ipc and uts namespaces running a tiny init. Commands later enter the
/// box through its command spawner or sandbox-box-exec (<see cref="Commands.CommandLauncher"/>).
/// </summary>
internal sealed class BoxLauncher
{
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
        using var layers = _identity.MapLayers(spec.Overlays.SelectMany(o => o.LowerDirs));
        var psi = BoxLaunchCommand.Build(_host, _identity, spec, layers);
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
            var spawner = await StartSpawnerAsync(spec, initPid, cancellationToken).ConfigureAwait(false);
            return new RunningBox(process, initPid, spec.Cgroup, _identity.Base, spec.SeccompFilter, spawner);
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


    /// <summary>The box's command spawner, or null (logged) where it cannot start: commands then use sandbox-box-exec.</summary>
    private async Task<Commands.BoxCommandSpawner?> StartSpawnerAsync(BoxLaunchSpec spec, int initPid, CancellationToken cancellationToken)
    {
        if (_host.BoxExecPath is null)
        {
            return null;
        }

        try
        {
            return await Commands.BoxCommandSpawner.StartAsync(_host.BoxExecPath, initPid, spec.SeccompFilter, _logger, spec.BoxId, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Commands.CommandStartException e)
        {
            Log.CommandSpawnerUnavailable(_logger, spec.BoxId, e);
            return null;
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

}
