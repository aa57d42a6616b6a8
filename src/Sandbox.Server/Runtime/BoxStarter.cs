using System.Diagnostics;
using Sandbox.Protocol;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;
using Sandbox.Server.Snapshots;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Starts boxes: disk, cgroup, start contributors (networking), the bubblewrap launch; then watches the box's init and
/// marks the box stopped when it exits on its own. Owns the box id range (<see cref="BoxIdentity"/>) and the seccomp filter.
/// </summary>
/// <remarks>Thread-safe; a box starts under its <see cref="Box.Lock"/>.</remarks>
internal sealed class BoxStarter : IDisposable
{
    private readonly DataDirectory _data;
    private readonly SnapshotStore _snapshots;
    private readonly HostCapabilities _host;
    private readonly BoxRegistry _registry;
    private readonly BoxDiskProvisioner _disks;
    private readonly CgroupController _cgroups;
    private readonly IEnumerable<IBoxStartContributor> _contributors;
    private readonly SandboxServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private BoxLauncher? _launcher;
    private BoxIdentity? _identity;
    private string? _seccompFilter;
    private int _closed;

    public BoxStarter(DataDirectory data, SnapshotStore snapshots, HostCapabilities host, BoxRegistry registry, BoxDiskProvisioner disks,
        CgroupController cgroups, IEnumerable<IBoxStartContributor> contributors, SandboxServerOptions options, TimeProvider time, ILogger logger)
    {
        _data = data;
        _snapshots = snapshots;
        _host = host;
        _registry = registry;
        _disks = disks;
        _cgroups = cgroups;
        _contributors = contributors;
        _options = options;
        _time = time;
        _logger = logger;
        BoxIdentity.Validate(options.BoxIdBase);
    }

    /// <summary>Creates the boxes' user namespace id mapping and writes the seccomp filter (at server start).</summary>
    public void Initialize()
    {
        if (_host.IsolationUnavailableReason is null && _launcher is null)
        {
            _identity = BoxIdentity.Create(_options.BoxIdBase, _host.UnsharePath!);
            _launcher = new BoxLauncher(_host, _identity, _logger);
            if (BoxSeccompFilter.Supported)
            {
                _seccompFilter = Path.Combine(_data.Root, "box-seccomp.bpf");
                AtomicFile.WriteAllBytes(_seccompFilter, BoxSeccompFilter.Build());
            }
        }
    }

    public void ThrowIfUnavailable()
    {
        if (_host.IsolationUnavailableReason is { } reason)
        {
            throw BoxUnavailableException.IsolationUnavailable(reason);
        }
    }

    /// <summary>Starts a stopped, failed or new box (no-op when running).</summary>
    public async Task StartAsync(Box box, CancellationToken cancellationToken)
    {
        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StartLockedAsync(box, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            box.Lock.Release();
        }
    }

    private async Task StartLockedAsync(Box box, CancellationToken cancellationToken)
    {
        if (box.Deleted)
        {
            throw NotFoundException.Box(box.Name);
        }

        if (box.Running is { HasExited: false })
        {
            return;
        }

        ThrowIfUnavailable();
        var record = box.Record;
        var started = Stopwatch.StartNew();
        if (box.Running is not null)
        {
            await box.Running.DisposeAsync().ConfigureAwait(false);
            box.Running = null;
        }

        record.Status = SandboxStatus.Provisioning;
        record.StatusMessage = null;
        BoxCgroup? cgroup = null;
        Task prewarm = Task.CompletedTask;
        try
        {
            var snapshot = _snapshots.Find(record.SnapshotId)
                ?? throw new BoxStartException($"Snapshot '{record.SnapshotId}' of this sandbox no longer exists");
            var (disk, image) = await _disks.PrepareAsync(record, cancellationToken).ConfigureAwait(false);
            cgroup = _cgroups.CreateBoxGroup(record.Id, _host.Memory ? record.MemBytes : null, _host.Cpu ? record.Vcpus : null);
            if (cgroup is not null)
            {
                // The first commands' groups are created while the launcher starts the box, off the command path.
                var groups = cgroup;
                prewarm = Task.Run(() => PrewarmCommandGroups(groups), CancellationToken.None);
            }

            var context = new BoxStartContext(record.Id, record.Name, box.ToInfo(null)) { ProxyConfig = record.ProxyConfig };
            foreach (var contributor in _contributors)
            {
                await contributor.ContributeAsync(context, cancellationToken).ConfigureAwait(false);
            }

            var (overlays, masked) = _snapshots.MountPlan(snapshot);
            long tmpfs = Math.Clamp(record.MemBytes / 2, 16L * 1024 * 1024, 4L * 1024 * 1024 * 1024);
            var spec = new BoxLaunchSpec(record.Id, disk, image, overlays, [.. context.ReadOnlyBindMounts], masked, cgroup, tmpfs, _seccompFilter);
            var running = await _launcher!.LaunchAsync(spec, cancellationToken).ConfigureAwait(false);
            box.Running = running;
            box.ContributedEnvironment = new Dictionary<string, string>(context.Environment, StringComparer.Ordinal);
            foreach (var contributor in _contributors)
            {
                await contributor.OnStartedAsync(context, running.NetworkNamespacePath, cancellationToken).ConfigureAwait(false);
            }

            try
            {
                running.Files.CreateDirectories("/home/user");
            }
            catch (IOException)
            {
                // A read-only or unusual image: commands still run, in "/" if /home/user is missing.
            }

            record.Status = SandboxStatus.Ready;
            record.StatusMessage = record.UnenforcedLimits.Count > 0
                ? "Running; limits not enforced on this host: " + string.Join(", ", record.UnenforcedLimits)
                : null;
            record.StoppedAt = null;
            record.UpdatedAt = _time.GetUtcNow();
            box.Touch(_time);
            _registry.Save(record);
            _ = WatchAsync(box, running);

            Log.BoxStarted(_logger, record.Id, record.Name, started.Elapsed.TotalMilliseconds);
        }
        catch (Exception e) when (e is BoxStartException or IOException or UnauthorizedAccessException)
        {
            if (cgroup is not null)
            {
                await prewarm.ConfigureAwait(false);
                await cgroup.DeleteAsync().ConfigureAwait(false);
            }

            record.Status = SandboxStatus.Failed;
            record.StatusMessage = e.Message;
            record.UpdatedAt = _time.GetUtcNow();
            _registry.Save(record);
            Log.BoxStartFailed(_logger, record.Id, e.Message);
        }
    }

    private static void PrewarmCommandGroups(BoxCgroup cgroup)
    {
        try
        {
            cgroup.Prewarm(2);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Commands create their groups on demand instead.
        }
    }

    private async Task WatchAsync(Box box, RunningBox running)
    {
        await running.WaitForExitAsync().ConfigureAwait(false);
        await box.Lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (box.Running == running && !box.Deleted && Volatile.Read(ref _closed) == 0)
            {
                box.Running = null;
                await running.DisposeAsync().ConfigureAwait(false);
                _registry.SetStopped(box, "Stopped: the sandbox's init process exited unexpectedly; start it again to resume.");
            }
        }
        finally
        {
            box.Lock.Release();
        }
    }

    /// <summary>Gives a copy of a box's writable layers (box ids stored as host ids from the base) 0-based ids, as every snapshot layer has.</summary>
    public void UnshiftCapturedLayer(string layer)
    {
        if (_identity is not null)
        {
            BoxIdentity.ShiftTree(layer, _identity.Base, 0);
        }
    }

    /// <summary>From now on a box whose init exits is left as it is (the server is shutting down and stops every box).</summary>
    public void Close() => Volatile.Write(ref _closed, 1);

    public void Dispose() => _identity?.Dispose();
}
