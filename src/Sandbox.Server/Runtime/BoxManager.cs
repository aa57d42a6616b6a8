using System.Globalization;
using Sandbox.Protocol;
using Sandbox.Server.Commands;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;
using Sandbox.Server.Snapshots;

namespace Sandbox.Server.Runtime;

/// <summary>
/// The box runtime's front: creates, stops, updates and deletes boxes, resumes stopped boxes on data-plane use and starts
/// commands. Lookup and persistence live in <see cref="BoxRegistry"/>, starting in <see cref="BoxStarter"/>, warm boxes
/// in <see cref="WarmBoxPool"/>, idle/TTL sweeps in <see cref="BoxSweeper"/>. Look boxes up with <see cref="Find"/>.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class BoxManager : IAsyncDisposable
{
    private readonly DataDirectory _data;
    private readonly BoxRegistry _registry;
    private readonly BoxStarter _starter;
    private readonly WarmBoxPool _pool;
    private readonly SnapshotStore _snapshots;
    private readonly HostCapabilities _host;
    private readonly CgroupController _cgroups;
    private readonly BoxTeardown _teardown;
    private readonly CommandLauncher _commands;
    private readonly SandboxServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private int _disposed;

    public BoxManager(DataDirectory data, BoxRegistry registry, BoxStarter starter, WarmBoxPool pool, SnapshotStore snapshots, HostCapabilities host,
        CgroupController cgroups, BoxTeardown teardown, SandboxServerOptions options, TimeProvider time, ILogger logger)
    {
        _data = data;
        _registry = registry;
        _starter = starter;
        _pool = pool;
        _snapshots = snapshots;
        _host = host;
        _cgroups = cgroups;
        _teardown = teardown;
        _options = options;
        _time = time;
        _logger = logger;
        _commands = new CommandLauncher(host, time, options.OutputBufferBytes);
        DockerfileBuilds = new Snapshots.Dockerfile.DockerfileBuilds(this, logger);
    }

    /// <summary>Dockerfile builds served for the SDKs' Dockerfile flow, and the snapshots they built.</summary>
    public Snapshots.Dockerfile.DockerfileBuilds DockerfileBuilds { get; }

    public HostCapabilities Host => _host;

    public SnapshotStore Snapshots => _snapshots;

    public TimeProvider Time => _time;

    /// <summary>Finds a box by name or id (the networking seam uses this too).</summary>
    public Box? Find(string nameOrId) => _registry.Find(nameOrId);

    public Box Get(string name) => _registry.Get(name);

    public IReadOnlyList<Box> List() => _registry.List();

    public bool IsSnapshotInUse(string snapshotId) => _registry.IsSnapshotInUse(snapshotId);

    /// <summary>Throws <see cref="BoxUnavailableException"/> when this host cannot run boxes at all.</summary>
    public void ThrowIfUnavailable() => _starter.ThrowIfUnavailable();

    /// <summary>Creates a box and starts it (waiting for it when <see cref="BoxCreateParameters.WaitForReady"/> is set).</summary>
    public async Task<Box> CreateAsync(BoxCreateParameters request, CancellationToken cancellationToken)
    {
        _starter.ThrowIfUnavailable();
        var snapshot = ResolveSnapshot(request.Snapshot);
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
            Persistent = request.Persistent,
        };
        record.UnenforcedLimits = _host.UnenforcedLimitsFor(record.FsCapacityBytes is not null);
        var box = new Box(record, _time);
        lock (_registry.NamesGate)
        {
            string name = string.IsNullOrEmpty(request.Name) ? _registry.GenerateName() : request.Name;
            if (Find(name) is not null)
            {
                throw new ConflictException($"Sandbox name '{name}' already in use");
            }

            record.Name = name;
            if (_pool.TryTake(snapshot, record) is { } warm)
            {
                Save(warm.Record);
                _registry.Add(warm);
                Log.BoxStarted(_logger, warm.Id, warm.Name, 0);
                return warm;
            }

            Directory.CreateDirectory(_data.BoxDirectory(record.Id));
            Save(record);
            _registry.Add(box);
        }

        var start = _starter.StartAsync(box, CancellationToken.None);
        box.Starting = start;
        if (!request.WaitForReady)
        {
            return box;
        }

        int timeout = request.ReadyTimeoutSeconds;
        try
        {
            await start.WaitAsync(TimeSpan.FromSeconds(timeout), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new BoxStartTimeoutException($"Timeout waiting for sandbox '{record.Name}' to be ready after {timeout}s (last status: {record.Status})");
        }

        if (record.Status == SandboxStatus.Failed)
        {
            throw new BoxConfigException(record.StatusMessage ?? "The sandbox failed to start");
        }

        return box;
    }

    private SnapshotRecord ResolveSnapshot(string? idOrName)
    {
        SnapshotRecord snapshot;
        if (idOrName is { Length: > 0 })
        {
            snapshot = _snapshots.Find(idOrName) ?? throw NotFoundException.Snapshot(idOrName);
        }
        else
        {
            snapshot = _snapshots.Default;
        }

        if (snapshot.Status != SnapshotStatus.Ready)
        {
            throw new BoxConfigException($"Snapshot '{snapshot.Name}' is not ready (status: {snapshot.Status}){(snapshot.StatusMessage is null ? "" : ": " + snapshot.StatusMessage)}");
        }

        return snapshot;
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
            _registry.SetStopped(box, message);
        }
    }

    public async Task DeleteAsync(Box box, CancellationToken cancellationToken)
    {
        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (box.Deleted)
            {
                throw NotFoundException.Box(box.Name);
            }

            // Unreachable before the answer: marked deleting on disk (a restart finishes the job), every process sent
            // SIGKILL, out of the registry (the name is free). The slow part runs in the background (BoxTeardown).
            box.Deleted = true;
            box.Record.Status = SandboxStatus.Deleting;
            Save(box.Record);
            var running = box.Running;
            box.Running = null;
            running?.Kill();
            _registry.Remove(box.Id);
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

    /// <summary>Renames a box and changes its settings; resources apply at the next start.</summary>
    public async Task<Box> UpdateAsync(Box box, BoxUpdateParameters request, CancellationToken cancellationToken)
    {
        await box.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var record = box.Record;
            if (request.Name is { } name && name != record.Name)
            {
                lock (_registry.NamesGate)
                {
                    if (Find(name) is not null)
                    {
                        throw new ConflictException($"Sandbox name '{name}' already in use");
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

        await _starter.StartAsync(box, cancellationToken).ConfigureAwait(false);
        return box.Running is { } now
            ? now
            : throw BoxUnavailableException.StartFailed(box.Name, box.Record.StatusMessage);
    }

    /// <summary>Starts (or attaches to) the command <paramref name="spec"/> in the box.</summary>
    public async Task<(CommandSession Session, bool Created)> StartCommandAsync(Box box, RunningBox running, CommandSpec spec, CancellationToken cancellationToken)
    {
        long oomBefore = running.Cgroup?.OomKillCount() ?? 0;
        void Finished(CommandSession s) => OnCommandFinished(box, running, s, oomBefore);
        var result = await running.Commands.GetOrStartAsync(spec.CommandId,
            DockerfileBuilds.TryIntercept(box, running, spec, _commands, Finished)
            ?? (() => _commands.StartAsync(running, spec, Finished, cancellationToken))).ConfigureAwait(false);
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

    /// <summary>Gives a copy of a box's writable layers (box ids stored as host ids from the base) 0-based ids, as every snapshot layer has.</summary>
    public void UnshiftCapturedLayer(string layer) => _starter.UnshiftCapturedLayer(layer);

    /// <summary>Starts a stopped, failed or new box (no-op when running).</summary>
    public Task StartAsync(Box box, CancellationToken cancellationToken) => _starter.StartAsync(box, cancellationToken);

    /// <summary>Resolves the host path of a running box's writable layers (for capture).</summary>
    public string UpperLayersPath(Box box, RunningBox running) =>
        $"/proc/{running.LauncherPid.ToString(CultureInfo.InvariantCulture)}/root{_data.BoxDisk(box.Id)}/up";

    public void Save(BoxRecord record) => _registry.Save(record);

    /// <summary>Stops every box (server shutdown); metadata records them as stopped.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _starter.Close();
        _pool.Close();
        await Task.WhenAll(_registry.All.Select(async box =>
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
        _starter.Dispose();
    }
}
