using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Sandbox.Protocol;
using Sandbox.Server.Api;
using Sandbox.Server.Commands;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Snapshots;

namespace Sandbox.Server.Runtime;

/// <summary>
/// The box runtime: creates, starts, stops and deletes boxes, persists their metadata, resumes stopped boxes on
/// data-plane use, and sweeps idle and expired boxes. Look boxes up with <see cref="Find"/>.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed partial class BoxManager : IAsyncDisposable
{
    private const long MinMemoryBytes = 16L * 1024 * 1024;
    private const long MinFsCapacityBytes = 32L * 1024 * 1024;
    private readonly ConcurrentDictionary<string, Box> _boxes = new(StringComparer.Ordinal);
    private readonly object _namesGate = new();
    private readonly DataDirectory _data;
    private readonly SnapshotStore _snapshots;
    private readonly HostCapabilities _host;
    private readonly BoxLauncher? _launcher;
    private readonly BoxIdentity? _identity;
    private readonly string? _seccompFilter;
    private readonly CgroupController _cgroups;
    private readonly CommandLauncher _commands;
    private readonly IEnumerable<IBoxStartContributor> _contributors;
    private readonly SandboxServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<Box> _spares = new();
    private readonly BoxTeardown _teardown;
    private int _sparesStarting;
    private int _disposed;

    public BoxManager(DataDirectory data, SnapshotStore snapshots, HostCapabilities host, IEnumerable<IBoxStartContributor> contributors,
        SandboxServerOptions options, TimeProvider time, ILogger logger)
    {
        _data = data;
        _snapshots = snapshots;
        _host = host;
        _contributors = contributors;
        _options = options;
        _time = time;
        _logger = logger;
        BoxIdentity.Validate(options.BoxIdBase);
        if (host.IsolationUnavailableReason is null)
        {
            _identity = BoxIdentity.Create(options.BoxIdBase, host.UnsharePath!);
            _launcher = new BoxLauncher(host, _identity, logger);
            if (BoxSeccompFilter.Supported)
            {
                _seccompFilter = Path.Combine(data.Root, "box-seccomp.bpf");
                AtomicFile.WriteAllBytes(_seccompFilter, BoxSeccompFilter.Build());
            }
        }

        _cgroups = new CgroupController(host, options.PidsLimit);
        _teardown = new BoxTeardown(logger);
        _commands = new CommandLauncher(host, time, options.OutputBufferBytes);
    }

    public HostCapabilities Host => _host;

    public SnapshotStore Snapshots => _snapshots;

    public TimeProvider Time => _time;

    /// <summary>Loads persisted boxes; every box comes back <c>stopped</c> (its processes did not survive the restart).</summary>
    public void Initialize()
    {
        Log.Limits(_logger, _host.Describe());
        int stale = _cgroups.RemoveStaleGroups(TimeSpan.FromMinutes(2));
        if (stale > 0)
        {
            Log.StaleGroupsRemoved(_logger, stale);
        }

        if (_host.IsolationUnavailableReason is { } reason)
        {
            Log.IsolationUnavailable(_logger, reason);
        }

        foreach (string dir in Directory.GetDirectories(_data.Boxes))
        {
            string meta = Path.Combine(dir, "box.json");
            if (!File.Exists(meta))
            {
                continue;
            }

            try
            {
                var record = AtomicFile.ReadJson<BoxRecord>(meta);
                if (record is null)
                {
                    continue;
                }

                if (record.Status == SandboxStatus.Deleting)
                {
                    _teardown.Enqueue(record.Id, null, dir); // deleted, but the server stopped before its folder was gone
                    continue;
                }

                if (record.Status is SandboxStatus.Ready or SandboxStatus.Provisioning)
                {
                    record.Status = SandboxStatus.Stopped;
                    record.StatusMessage = "Stopped: the sandbox server restarted; start the sandbox (or use it) to resume.";
                    record.StoppedAt ??= _time.GetUtcNow();
                    Save(record);
                }

                _boxes[record.Id] = new Box(record, _time);
            }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
            {
                Log.BoxLoadFailed(_logger, meta, e);
            }
        }

        foreach (string dir in Directory.GetDirectories(_data.Boxes).Where(d => !File.Exists(Path.Combine(d, "box.json"))))
        {
            _teardown.Enqueue(Path.GetFileName(dir), null, dir); // a warm box that was never handed out
        }

        RefillSpares();
    }

    /// <summary>Keeps <see cref="SandboxServerOptions.WarmBoxes"/> default boxes started in the background.</summary>
    private void RefillSpares()
    {
        if (_host.IsolationUnavailableReason is not null)
        {
            return;
        }

        while (Volatile.Read(ref _disposed) == 0 && _spares.Count + Volatile.Read(ref _sparesStarting) < _options.WarmBoxes)
        {
            Interlocked.Increment(ref _sparesStarting);
            _ = Task.Run(async () =>
            {
                var now = _time.GetUtcNow();
                var box = new Box(new BoxRecord
                {
                    Id = Guid.NewGuid().ToString(),
                    SnapshotId = _snapshots.Default.Id,
                    CreatedAt = now,
                    UpdatedAt = now,
                    Vcpus = _options.DefaultVcpus,
                    MemBytes = _options.DefaultMemoryBytes,
                    IsSpare = true,
                }, _time);
                try
                {
                    await StartAsync(box, CancellationToken.None).ConfigureAwait(false);
                    if (box.Running is { HasExited: false } && Volatile.Read(ref _disposed) == 0)
                    {
                        _spares.Enqueue(box);
                        return;
                    }
                }
                catch (Exception e) when (e is ApiException or IOException or InvalidOperationException)
                {
                    Log.SweepFailed(_logger, box.Id, e);
                }
                finally
                {
                    Interlocked.Decrement(ref _sparesStarting);
                }

                DiscardSpare(box);
            });
        }
    }

    /// <summary>Hands out a warm box for <paramref name="wanted"/> if one fits; call under the names lock.</summary>
    private Box? TryTakeSpare(SnapshotRecord snapshot, BoxRecord wanted)
    {
        if (snapshot.Id != _snapshots.Default.Id || wanted.FsCapacityBytes is not null || wanted.ProxyConfig is not null || !wanted.Persistent)
        {
            return null;
        }

        while (_spares.TryDequeue(out var spare))
        {
            if (spare.Running is not { HasExited: false }
                || ((wanted.MemBytes != spare.Record.MemBytes || wanted.Vcpus != spare.Record.Vcpus)
                    && !_cgroups.UpdateLimits(spare.Id, _host.Memory ? wanted.MemBytes : null, _host.Cpu ? wanted.Vcpus : null)))
            {
                DiscardSpare(spare);
                continue;
            }

            var r = spare.Record;
            r.Name = wanted.Name;
            r.CreatedAt = wanted.CreatedAt;
            r.UpdatedAt = wanted.UpdatedAt;
            r.IdleTtlSeconds = wanted.IdleTtlSeconds;
            r.DeleteAfterStopSeconds = wanted.DeleteAfterStopSeconds;
            r.Vcpus = wanted.Vcpus;
            r.MemBytes = wanted.MemBytes;
            r.Labels = wanted.Labels;
            r.RunConfig = wanted.RunConfig;
            r.AccessDelegation = wanted.AccessDelegation;
            r.UnenforcedLimits = wanted.UnenforcedLimits;
            r.StatusMessage = wanted.UnenforcedLimits.Count > 0 ? "Running; limits not enforced on this host: " + string.Join(", ", wanted.UnenforcedLimits) : null;
            r.IsSpare = false;
            spare.Touch(_time);
            RefillSpares();
            return spare;
        }

        RefillSpares();
        return null;
    }

    private void DiscardSpare(Box box)
    {
        box.Deleted = true;
        var running = box.Running;
        box.Running = null;
        running?.Kill();
        _teardown.Enqueue(box.Id, running, _data.BoxDirectory(box.Id));
    }

    /// <summary>Finds a box by name or id (the networking seam uses this too).</summary>
    public Box? Find(string nameOrId)
    {
        if (_boxes.TryGetValue(nameOrId, out var byId) && !byId.Deleted)
        {
            return byId;
        }

        return _boxes.Values.FirstOrDefault(b => !b.Deleted && b.Name == nameOrId);
    }

    public Box Get(string name) => Find(name) ?? throw ApiException.SandboxNotFound(name);

    public IReadOnlyList<Box> List() => [.. _boxes.Values.Where(b => !b.Deleted).OrderBy(b => b.Record.CreatedAt)];

    public bool IsSnapshotInUse(string snapshotId) => _boxes.Values.Any(b => !b.Deleted && b.Record.SnapshotId == snapshotId);

    [GeneratedRegex("^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,126}[a-zA-Z0-9])?$")]
    private static partial Regex NamePattern();

    public async Task<Box> CreateAsync(CreateSandboxRequest request, CancellationToken cancellationToken)
    {
        ThrowIfUnavailable();
        var snapshot = ValidateCreate(request);
        var now = _time.GetUtcNow();
        var record = new BoxRecord
        {
            Id = Guid.NewGuid().ToString(),
            SnapshotId = snapshot.Id,
            Status = SandboxStatus.Provisioning,
            CreatedAt = now,
            UpdatedAt = now,
            IdleTtlSeconds = request.IdleTtlSeconds ?? _options.DefaultIdleTtlSeconds,
            DeleteAfterStopSeconds = request.DeleteAfterStopSeconds ?? _options.DefaultDeleteAfterStopSeconds,
            Vcpus = request.Vcpus ?? _options.DefaultVcpus,
            MemBytes = request.MemBytes ?? _options.DefaultMemoryBytes,
            FsCapacityBytes = request.FsCapacityBytes ?? (snapshot.FsCapacityBytes > 0 ? snapshot.FsCapacityBytes : null),
            Labels = MergeLabels(snapshot.Labels, request.Labels),
            ProxyConfig = request.ProxyConfig,
            RunConfig = request.RunConfig,
            AccessDelegation = request.AccessDelegation,
            Persistent = request.Persistent ?? true,
        };
        record.UnenforcedLimits = UnenforcedFor(record);
        var box = new Box(record, _time);
        lock (_namesGate)
        {
            string name = string.IsNullOrEmpty(request.Name) ? GenerateName() : request.Name;
            if (Find(name) is not null)
            {
                throw ApiException.Structured(409, "Conflict", $"Sandbox name '{name}' already in use");
            }

            record.Name = name;
            if (TryTakeSpare(snapshot, record) is { } warm)
            {
                Save(warm.Record);
                _boxes[warm.Id] = warm;
                Log.BoxStarted(_logger, warm.Id, warm.Name, 0);
                return warm;
            }

            Directory.CreateDirectory(_data.BoxDirectory(record.Id));
            Save(record);
            _boxes[record.Id] = box;
        }

        var start = StartAsync(box, CancellationToken.None);
        box.Starting = start;
        if (!request.WaitForReady)
        {
            return box;
        }

        int timeout = request.Timeout is > 0 ? request.Timeout.Value : 30;
        try
        {
            await start.WaitAsync(TimeSpan.FromSeconds(timeout), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw ApiException.Structured(408, "Timeout", $"Timeout waiting for sandbox '{record.Name}' to be ready after {timeout}s (last status: {record.Status})");
        }

        if (record.Status == SandboxStatus.Failed)
        {
            throw ApiException.Structured(422, "SandboxConfig", record.StatusMessage ?? "The sandbox failed to start");
        }

        return box;
    }

    private SnapshotRecord ValidateCreate(CreateSandboxRequest request)
    {
        if (request.SnapshotId is { Length: > 0 } && request.SnapshotName is { Length: > 0 })
        {
            throw ApiException.Validation("snapshot_id", "At most one of snapshot_id or snapshot_name may be set");
        }

        if (request.Name is { Length: > 0 } name && !NamePattern().IsMatch(name))
        {
            throw ApiException.Validation("name", "name must be 1-128 characters of letters, digits, '.', '_' or '-', starting and ending with a letter or digit");
        }

        ValidateRetention(request.IdleTtlSeconds, "idle_ttl_seconds");
        ValidateRetention(request.DeleteAfterStopSeconds, "delete_after_stop_seconds");
        if (request.Vcpus is { } vcpus && (vcpus < 1 || vcpus > 64))
        {
            throw ApiException.Validation("vcpus", "vcpus must be between 1 and 64");
        }

        if (request.MemBytes is { } mem && (mem < MinMemoryBytes || mem > 64L * 1024 * 1024 * 1024))
        {
            throw ApiException.Validation("mem_bytes", $"mem_bytes must be between {MinMemoryBytes} and 64 GiB");
        }

        if (request.FsCapacityBytes is { } fs && fs < MinFsCapacityBytes)
        {
            throw ApiException.Validation("fs_capacity_bytes", $"fs_capacity_bytes must be at least {MinFsCapacityBytes}");
        }

        if (request.MountConfig is { } mounts && (mounts.Mounts.Count > 0 || mounts.Auth.Aws is not null || mounts.Auth.Gcp is not null))
        {
            throw ApiException.Validation("mount_config",
                "mount_config is not supported by the local sandbox server: S3, GCS, git and Context Hub mounts need network access and provider credentials it does not have. Upload the files with the file API instead.");
        }

        if (request.RestoreMemory == true)
        {
            throw ApiException.Validation("restore_memory", "restore_memory=true is not supported by the local sandbox server: its snapshots never hold memory (boxes always cold-boot)");
        }

        if (request.PreserveMemoryOnStop == true)
        {
            throw ApiException.Validation("preserve_memory_on_stop", "preserve_memory_on_stop=true is not supported by the local sandbox server: stopping a box ends its processes; files persist");
        }

        if (request.AccessDelegation is not null)
        {
            throw ApiException.Validation("access_delegation", "access_delegation is not supported by the local sandbox server: it has no LangSmith identity to delegate");
        }

        SnapshotStore.ValidateRunConfig(request.RunConfig, "run_config");
        SnapshotRecord snapshot;
        if (request.SnapshotId is { Length: > 0 } id)
        {
            snapshot = _snapshots.Find(id) ?? throw ApiException.Structured(404, "NotFound", $"Snapshot '{id}' not found");
        }
        else if (request.SnapshotName is { Length: > 0 } snapshotName)
        {
            snapshot = _snapshots.Find(snapshotName) ?? throw ApiException.Structured(404, "NotFound", $"Snapshot '{snapshotName}' not found");
        }
        else
        {
            snapshot = _snapshots.Default;
        }

        if (snapshot.Status != SnapshotStatus.Ready)
        {
            throw ApiException.Structured(422, "SandboxConfig", $"Snapshot '{snapshot.Name}' is not ready (status: {snapshot.Status}){(snapshot.StatusMessage is null ? "" : ": " + snapshot.StatusMessage)}");
        }

        return snapshot;
    }

    internal static void ValidateRetention(int? value, string field)
    {
        if (value is { } v && (v < 0 || v % 60 != 0))
        {
            throw ApiException.Validation(field, $"{field} must be >= 0 and a multiple of 60 seconds");
        }
    }

    private List<string> UnenforcedFor(BoxRecord record)
    {
        var list = new List<string>();
        if (!_host.Memory)
        {
            list.Add(HostCapabilities.MemoryLimit);
        }

        if (!_host.Cpu)
        {
            list.Add(HostCapabilities.CpuLimit);
        }

        if (!_host.Pids)
        {
            list.Add(HostCapabilities.PidsLimit);
        }

        if (record.FsCapacityBytes is not null && !_host.LoopDisks)
        {
            list.Add(HostCapabilities.FsCapacityLimit);
        }

        return list;
    }

    private static Dictionary<string, string>? MergeLabels(Dictionary<string, string>? snapshot, IReadOnlyDictionary<string, string>? request)
    {
        if (snapshot is null && request is null)
        {
            return null;
        }

        var labels = new Dictionary<string, string>(snapshot ?? [], StringComparer.Ordinal);
        foreach (var (k, v) in request ?? new Dictionary<string, string>())
        {
            labels[k] = v;
        }

        return labels;
    }

    private string GenerateName()
    {
        while (true)
        {
            string name = "sandbox-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
            if (Find(name) is null)
            {
                return name;
            }
        }
    }

    private void ThrowIfUnavailable()
    {
        if (_host.IsolationUnavailableReason is { } reason)
        {
            throw ApiException.Structured(503, "Unschedulable", "Sandboxes cannot run on this server: " + reason);
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
            throw ApiException.SandboxNotFound(box.Name);
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
            string disk = _data.BoxDisk(record.Id);
            if (!record.Persistent && Directory.Exists(disk))
            {
                SnapshotImporter.DeleteTree(disk);
            }

            // Every box gets a disk of its own (a sparse ext4 image) so no box can fill the host disk: its requested
            // capacity, else the server default. A box whose files already live in a plain folder (written before the
            // default existed) keeps that folder.
            bool fresh = !Directory.Exists(disk) || File.Exists(_data.BoxDiskImage(record.Id));
            long? wantedCapacity = record.FsCapacityBytes ?? (fresh && _options.DefaultFsCapacityBytes > 0 ? _options.DefaultFsCapacityBytes : null);
            Directory.CreateDirectory(disk);
            string? image = null;
            if (wantedCapacity is { } capacity && _host.LoopDisks)
            {
                image = _data.BoxDiskImage(record.Id);
                if (!record.Persistent && File.Exists(image))
                {
                    File.Delete(image);
                }

                if (!File.Exists(image))
                {
                    await CreateDiskImageAsync(image, capacity, cancellationToken).ConfigureAwait(false);
                }
            }

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
            Save(record);
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
            Save(record);
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

    private async Task CreateDiskImageAsync(string image, long capacity, CancellationToken cancellationToken)
    {
        string temp = image + ".tmp";
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            file.SetLength(capacity);
        }

        var psi = new ProcessStartInfo(_host.MkfsPath!) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in (string[])["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1", temp])
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new BoxStartException("mkfs.ext4 could not be started");
        string stderr = await process.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            File.Delete(temp);
            throw new BoxStartException("Creating the sandbox filesystem failed: " + stderr.Trim());
        }

        File.Move(temp, image, overwrite: true);
    }

    private async Task WatchAsync(Box box, RunningBox running)
    {
        await running.WaitForExitAsync().ConfigureAwait(false);
        await box.Lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (box.Running == running && !box.Deleted && Volatile.Read(ref _disposed) == 0)
            {
                box.Running = null;
                await running.DisposeAsync().ConfigureAwait(false);
                SetStopped(box, "Stopped: the sandbox's init process exited unexpectedly; start it again to resume.");
            }
        }
        finally
        {
            box.Lock.Release();
        }
    }

    /// <summary>Stops a box: every process ends, files persist.</summary>
    public async Task StopAsync(Box box, string? message, CancellationToken cancellationToken)
    {
        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await StopLockedAsync(box, message).ConfigureAwait(false);
        }
        finally
        {
            box.Lock.Release();
        }
    }

    private async Task StopLockedAsync(Box box, string? message)
    {
        if (box.Running is { } running)
        {
            box.Running = null;
            await running.DisposeAsync().ConfigureAwait(false);
        }

        if (box.Record.Status != SandboxStatus.Stopped || message is not null)
        {
            SetStopped(box, message);
        }
    }

    private void SetStopped(Box box, string? message)
    {
        var record = box.Record;
        record.Status = SandboxStatus.Stopped;
        record.StatusMessage = message ?? record.StatusMessage;
        record.StoppedAt = _time.GetUtcNow();
        record.UpdatedAt = record.StoppedAt.Value;
        if (!box.Deleted)
        {
            Save(record);
        }

        Log.BoxStopped(_logger, record.Id, record.Name, message ?? "stop requested");
    }

    public async Task DeleteAsync(Box box, CancellationToken cancellationToken)
    {
        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (box.Deleted)
            {
                throw ApiException.SandboxNotFound(box.Name);
            }

            // Unreachable before the answer: marked deleting on disk (a restart finishes the job), every process sent
            // SIGKILL, out of the registry (the name is free). The slow part runs in the background (BoxTeardown).
            box.Deleted = true;
            box.Record.Status = SandboxStatus.Deleting;
            Save(box.Record);
            var running = box.Running;
            box.Running = null;
            running?.Kill();
            _boxes.TryRemove(box.Id, out _);
            _teardown.Enqueue(box.Id, running, _data.BoxDirectory(box.Id));
        }
        finally
        {
            box.Lock.Release();
        }

        Log.BoxDeleted(_logger, box.Id, box.Name);
    }

    /// <summary>Completes when every deleted box's teardown (processes reaped, cgroups, disk, folder) has finished.</summary>
    public Task WhenTeardownsDoneAsync() => _teardown.WhenIdleAsync();

    public async Task<Box> UpdateAsync(Box box, UpdateSandboxRequest request, CancellationToken cancellationToken)
    {
        ValidateRetention(request.IdleTtlSeconds, "idle_ttl_seconds");
        ValidateRetention(request.DeleteAfterStopSeconds, "delete_after_stop_seconds");
        SnapshotStore.ValidateRunConfig(request.RunConfig, "run_config");
        if (request.Vcpus is { } newVcpus && (newVcpus < 1 || newVcpus > 64))
        {
            throw ApiException.Validation("vcpus", "vcpus must be between 1 and 64");
        }

        if (request.MemBytes is { } newMem && (newMem < MinMemoryBytes || newMem > 64L * 1024 * 1024 * 1024))
        {
            throw ApiException.Validation("mem_bytes", $"mem_bytes must be between {MinMemoryBytes} and 64 GiB");
        }

        if (request.Name is { } newName && !NamePattern().IsMatch(newName))
        {
            throw ApiException.Validation("name", "name must be 1-128 characters of letters, digits, '.', '_' or '-', starting and ending with a letter or digit");
        }

        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var record = box.Record;
            if (request.Name is { } name && name != record.Name)
            {
                lock (_namesGate)
                {
                    if (Find(name) is not null)
                    {
                        throw ApiException.Structured(409, "Conflict", $"Sandbox name '{name}' already in use");
                    }

                    record.Name = name;
                }
            }

            if (request.IdleTtlSeconds is { } idle)
            {
                record.IdleTtlSeconds = idle;
            }

            if (request.DeleteAfterStopSeconds is { } das)
            {
                record.DeleteAfterStopSeconds = das;
            }

            if (request.ProxyConfig is not null)
            {
                record.ProxyConfig = request.ProxyConfig;
            }

            if (request.RunConfig is not null)
            {
                record.RunConfig = RunConfigs.Layer(record.RunConfig, request.RunConfig);
            }

            // Resources are the box's cgroup limits, made when the box starts: a change applies at the next start.
            if (request.Vcpus is { } vcpus)
            {
                record.Vcpus = vcpus;
            }

            if (request.MemBytes is { } mem)
            {
                record.MemBytes = mem;
            }

            record.UpdatedAt = _time.GetUtcNow();
            Save(record);
            return box;
        }
        finally
        {
            box.Lock.Release();
        }
    }

    /// <summary>Returns the running box, resuming a stopped one (the platform resumes on any data-plane request).</summary>
    public async Task<RunningBox> EnsureRunningAsync(Box box, CancellationToken cancellationToken)
    {
        box.Touch(_time);
        if (box.Running is { HasExited: false } running)
        {
            return running;
        }

        if (box.Starting is { IsCompleted: false } starting)
        {
            await starting.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (box.Running is { HasExited: false } afterStart)
        {
            return afterStart;
        }

        await StartAsync(box, cancellationToken).ConfigureAwait(false);
        return box.Running is { } now
            ? now
            : throw ApiException.Structured(503, "ServiceUnavailable", $"Sandbox '{box.Name}' could not be started: {box.Record.StatusMessage}");
    }

    /// <summary>Starts (or attaches to) the command <paramref name="spec"/> in the box.</summary>
    public async Task<(CommandSession Session, bool Created)> StartCommandAsync(Box box, RunningBox running, CommandSpec spec, CancellationToken cancellationToken)
    {
        long oomBefore = running.Cgroup?.OomKillCount() ?? 0;
        var result = await running.Commands.GetOrStartAsync(spec.CommandId,
            () => _commands.StartAsync(running, spec, s => OnCommandFinished(box, running, s, oomBefore), cancellationToken)).ConfigureAwait(false);
        if (result.Created)
        {
            box.Touch(_time);
            Log.CommandStarted(_logger, box.Id, spec.CommandId, result.Session.Pid);
            Log.CommandText(_logger, box.Id, spec.CommandId, spec.Command);
        }

        return result;
    }

    private void OnCommandFinished(Box box, RunningBox running, CommandSession session, long oomBefore)
    {
        box.Touch(_time);
        if (box.Deleted)
        {
            return;
        }

        long oomAfter = running.Cgroup?.OomKillCount() ?? 0;
        if (oomAfter > oomBefore)
        {
            Log.BoxOutOfMemory(_logger, box.Id);
            box.Record.StatusMessage = $"A process was killed for exceeding the sandbox memory limit of {box.Record.MemBytes} bytes (out of memory) at {Timestamps.Format(_time.GetUtcNow())}; command exit code {session.ExitCode}.";
            box.Record.UpdatedAt = _time.GetUtcNow();
            Save(box.Record);
        }
    }

    /// <summary>Stops boxes idle longer than their idle TTL and deletes boxes stopped longer than delete_after_stop.</summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        foreach (var box in List())
        {
            try
            {
                var record = box.Record;
                if (box.Running is { } running && record.Status == SandboxStatus.Ready && record.IdleTtlSeconds > 0
                    && running.Commands.Running.Count == 0
                    && now - box.LastActivity >= TimeSpan.FromSeconds(record.IdleTtlSeconds))
                {
                    await StopAsync(box, $"Stopped after {record.IdleTtlSeconds}s without activity (idle_ttl_seconds).", cancellationToken).ConfigureAwait(false);
                }
                else if (record.Status == SandboxStatus.Stopped && record.DeleteAfterStopSeconds > 0 && record.StoppedAt is { } stoppedAt
                    && now - stoppedAt >= TimeSpan.FromSeconds(record.DeleteAfterStopSeconds))
                {
                    await DeleteAsync(box, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or ApiException or InvalidOperationException)
            {
                Log.SweepFailed(_logger, box.Id, e);
            }
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

    /// <summary>Resolves the host path of a running box's writable layers (for capture).</summary>
    public string UpperLayersPath(Box box, RunningBox running) =>
        $"/proc/{running.LauncherPid.ToString(CultureInfo.InvariantCulture)}/root{_data.BoxDisk(box.Id)}/up";

    public void Save(BoxRecord record)
    {
        if (!record.IsSpare && Directory.Exists(_data.BoxDirectory(record.Id)))
        {
            AtomicFile.WriteJson(_data.BoxMetadata(record.Id), record);
        }
    }

    /// <summary>Stops every box (server shutdown); metadata records them as stopped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        while (_spares.TryDequeue(out var spare))
        {
            DiscardSpare(spare);
        }

        await Task.WhenAll(_boxes.Values.Select(async box =>
        {
            try
            {
                await StopAsync(box, "Stopped: the sandbox server shut down; start the sandbox (or use it) to resume.", CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                Log.SweepFailed(_logger, box.Id, e);
            }
        })).ConfigureAwait(false);
        await _teardown.WhenIdleAsync().ConfigureAwait(false);
        _cgroups.RemoveOwnGroupIfEmpty();
        _identity?.Dispose();
    }
}
