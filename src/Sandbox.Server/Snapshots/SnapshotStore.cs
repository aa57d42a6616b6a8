using System.Collections.Concurrent;
using Sandbox.Protocol;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;
using Sandbox.Server.Files;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Snapshots;

/// <summary>All snapshots: the built-in <c>default</c> (host system directories), imported root filesystems and captures.</summary>
/// <remarks>Thread-safe.</remarks>
internal sealed partial class SnapshotStore
{
    public const string DefaultName = "default";
    private static readonly string[] HostSystemEntries = ["usr", "etc", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];
    private static readonly string[] SkeletonDirectories = ["usr", "etc", "home/user", "root", "tmp", "var/tmp", "opt", "srv", "mnt", "media", "run", "proc", "dev", "sys"];
    private static readonly string[] SensitiveHostFiles = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-", "/etc/sudoers"];

    private readonly DataDirectory _data;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SnapshotImporter _importer;
    private readonly ConcurrentDictionary<string, SnapshotRecord> _snapshots = new(StringComparer.Ordinal);
    private readonly object _createGate = new();

    public SnapshotStore(DataDirectory data, TimeProvider time, ILogger logger, SandboxServerOptions? options = null, HttpClient? registryHttp = null)
    {
        _data = data;
        _time = time;
        _logger = logger;
        _options = options ?? new SandboxServerOptions();
        _importer = new SnapshotImporter(logger);
        Registries = new Registry.RegistryStore(data.Root, time);
        _puller = new Registry.ImagePuller(registryHttp ?? SharedRegistryHttp, Path.Combine(data.Root, "layers"), _options.MaxImageLayerBytes, _importer);
    }

    public SnapshotRecord Default { get; private set; } = null!;

    public void Initialize()
    {
        foreach (string dir in Directory.GetDirectories(_data.Snapshots))
        {
            string meta = Path.Combine(dir, "snapshot.json");
            if (!File.Exists(meta))
            {
                continue;
            }

            try
            {
                var record = AtomicFile.ReadJson<SnapshotRecord>(meta);
                if (record is null)
                {
                    continue;
                }

                if (record.Status == SnapshotStatus.Building)
                {
                    record.Status = SnapshotStatus.Failed;
                    record.StatusMessage = "The server restarted while this snapshot was being built; create it again.";
                    Save(record);
                }

                _snapshots[record.Id] = record;
            }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
            {
                Log.SnapshotLoadFailed(_logger, dir, e);
            }
        }

        if (_options.DefaultSnapshot == DefaultSnapshotKind.Debian)
        {
            Default = InitializeDebianDefault();
            return;
        }

        Default = _snapshots.Values.FirstOrDefault(s => s.Name == DefaultName && s.Kind == SnapshotKind.Host) ?? CreateDefault();
        EnsureSkeleton(Default);
    }

    private SnapshotRecord CreateDefault() => Register(new SnapshotRecord
    {
        Name = DefaultName,
        Status = SnapshotStatus.Ready,
        Kind = SnapshotKind.Host,
        DockerImage = "host",
        RunConfig = new RunConfig { User = "0", WorkDir = "/home/user" },
    }, claimName: false);

    private string SkeletonPath(SnapshotRecord hostSnapshot) => Path.Combine(_data.SnapshotDirectory(hostSnapshot.Id), "skel");

    private void EnsureSkeleton(SnapshotRecord record)
    {
        string skel = SkeletonPath(record);
        foreach (string dir in SkeletonDirectories)
        {
            Directory.CreateDirectory(Path.Combine(skel, dir));
        }

        foreach (string entry in HostSystemEntries)
        {
            var info = new FileInfo("/" + entry);
            string target = Path.Combine(skel, entry);
            if (info.LinkTarget is { } link)
            {
                if (new FileInfo(target).LinkTarget is null)
                {
                    if (Directory.Exists(target))
                    {
                        Directory.Delete(target);
                    }

                    File.CreateSymbolicLink(target, link);
                }
            }
            else if (Directory.Exists("/" + entry))
            {
                Directory.CreateDirectory(target);
            }
        }
    }

    public void Save(SnapshotRecord record) => AtomicFile.WriteJson(_data.SnapshotMetadata(record.Id), record);

    /// <summary>Finds a snapshot by id, by name, or by a Docker-style <c>name:tag</c> (tag ignored; newest ready wins).</summary>
    public SnapshotRecord? Find(string idOrName)
    {
        if (_snapshots.TryGetValue(idOrName, out var byId))
        {
            return byId;
        }

        string name = idOrName.EndsWith(":latest", StringComparison.Ordinal) ? idOrName[..^7] : idOrName;
        return _snapshots.Values
            .Where(s => s.Name == name)
            .OrderByDescending(s => s.Status == SnapshotStatus.Ready)
            .ThenByDescending(s => s.CreatedAt)
            .FirstOrDefault();
    }

    public IReadOnlyList<SnapshotRecord> List() => [.. _snapshots.Values.OrderBy(s => s.CreatedAt)];

    /// <summary>The overlays (and masked host files) a box from <paramref name="snapshot"/> is built from.</summary>
    public (IReadOnlyList<OverlayMount> Overlays, IReadOnlyList<string> Masked) MountPlan(SnapshotRecord snapshot)
    {
        var overlays = new List<OverlayMount>();
        if (snapshot.Kind == SnapshotKind.Host)
        {
            overlays.Add(new OverlayMount("/", "root", Lowers(snapshot, "root", SkeletonPath(HostBase ?? Default))));
            foreach (string entry in HostSystemEntries)
            {
                var info = new FileInfo("/" + entry);
                if (info.LinkTarget is null && Directory.Exists("/" + entry))
                {
                    overlays.Add(new OverlayMount("/" + entry, entry, Lowers(snapshot, entry, "/" + entry)));
                }
            }

            return (overlays, [.. SensitiveHostFiles.Where(File.Exists)]);
        }

        overlays.Add(new OverlayMount("/", "root", Lowers(snapshot, "root", snapshot.RootfsPath!)));
        return (overlays, []);
    }

    private static List<string> Lowers(SnapshotRecord snapshot, string key, string baseDir)
    {
        var lowers = new List<string>();
        foreach (string layer in snapshot.Layers)
        {
            string dir = Path.Combine(layer, key);
            if (Directory.Exists(dir))
            {
                lowers.Add(dir);
            }
        }

        lowers.Add(baseDir);
        return lowers;
    }

    /// <summary>
    /// POST /snapshots: imports a local root filesystem folder or a docker-save / OCI archive, or pulls
    /// <see cref="SnapshotCreateParameters.Image"/> from its registry; the snapshot is building until that ends.
    /// </summary>
    public SnapshotRecord CreateFromImage(SnapshotCreateParameters request)
    {
        if (request.Image is { } image)
        {
            return CreateFromRegistry(request, image);
        }

        var source = SnapshotImporter.ResolveSource(request.DockerImage);
        string full = Path.GetFullPath(source.Path).TrimEnd('/') + "/";
        if (full.StartsWith(_data.Root.TrimEnd('/') + "/", StringComparison.Ordinal) || _data.Root.StartsWith(full, StringComparison.Ordinal))
        {
            throw new InvalidRequestException("docker_image", "docker_image must not point into (or contain) the sandbox server's data directory: it holds other sandboxes' files");
        }

        var record = Register(Importing(request), withRootfs: true);
        string rootfs = record.RootfsPath!;
        _ = Task.Run(async () =>
        {
            try
            {
                var imageConfig = await _importer.ImportAsync(source, rootfs, CancellationToken.None).ConfigureAwait(false);
                record.RunConfig = RunConfigs.Layer(imageConfig?.RunConfig, request.RunConfig);
                record.ImageDigest = imageConfig?.Digest;
                record.FsUsedBytes = FileTree.Size(rootfs);
                record.Status = SnapshotStatus.Ready;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.SnapshotBuildFailed(_logger, record.Id, e);
                record.Status = SnapshotStatus.Failed;
                record.StatusMessage = e is SnapshotImportException ? e.Message : "Snapshot build failed: " + e.Message;
            }

            record.UpdatedAt = _time.GetUtcNow();
            Save(record);
        });
        return record;
    }

    /// <summary>Captures the writable layers of a running box (files only) into a new snapshot on top of the box's snapshot.</summary>
    /// <remarks><paramref name="afterCopy"/> runs on the copied layer (the runtime gives it the 0-based ids of every layer).</remarks>
    public async Task<SnapshotRecord> CaptureAsync(SnapshotRecord parent, string boxId, string upperRoot, string name, long? fsCapacityBytes, RunConfig? runConfig, CancellationToken cancellationToken,
        Action<string>? afterCopy = null)
    {
        var record = Register(new SnapshotRecord
        {
            Name = name,
            Kind = parent.Kind,
            RootfsPath = parent.RootfsPath,
            FsCapacityBytes = fsCapacityBytes ?? parent.FsCapacityBytes,
            SourceSandboxId = boxId,
            RunConfig = runConfig,
        });
        string layer = Path.Combine(_data.SnapshotDirectory(record.Id), "layer");
        try
        {
            await FileTree.CopyAsync(upperRoot, layer, cancellationToken).ConfigureAwait(false);
            afterCopy?.Invoke(layer);
            record.Layers = [layer, .. parent.Layers];
            record.FsUsedBytes = FileTree.Size(layer) + (parent.FsUsedBytes ?? 0);
            record.Status = SnapshotStatus.Ready;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            record.Status = SnapshotStatus.Failed;
            record.StatusMessage = "Capture failed: " + e.Message;
        }

        record.UpdatedAt = _time.GetUtcNow();
        Save(record);
        return record;
    }

    /// <summary>A building snapshot of an image (<paramref name="request"/>), before it is registered.</summary>
    private static SnapshotRecord Importing(SnapshotCreateParameters request) => new()
    {
        Name = request.Name,
        Kind = SnapshotKind.Rootfs,
        FsCapacityBytes = request.FsCapacityBytes,
        DockerImage = request.DockerImage,
        RunConfig = request.RunConfig,
    };

    /// <summary>
    /// The one way a snapshot comes into the store: gives <paramref name="record"/> its id and timestamps, claims its name
    /// (a name held by a snapshot that has not failed is a conflict, unless <paramref name="claimName"/> is false for the
    /// built-in default), creates its folder (with <paramref name="withRootfs"/>, its <c>rootfs</c> is the record's root
    /// filesystem), and saves it.
    /// </summary>
    private SnapshotRecord Register(SnapshotRecord record, bool withRootfs = false, bool claimName = true)
    {
        var now = _time.GetUtcNow();
        record.Id = Guid.NewGuid().ToString();
        record.CreatedAt = now;
        record.UpdatedAt = now;
        string folder = _data.SnapshotDirectory(record.Id);
        lock (_createGate)
        {
            if (claimName && _snapshots.Values.Any(s => s.Name == record.Name && s.Status != SnapshotStatus.Failed))
            {
                throw new ConflictException($"Snapshot name '{record.Name}' already in use");
            }

            Directory.CreateDirectory(folder);
            if (withRootfs)
            {
                record.RootfsPath = Path.Combine(folder, "rootfs");
            }

            _snapshots[record.Id] = record;
        }

        Save(record);
        return record;
    }

    /// <summary>Deletes a snapshot unless boxes or other snapshots are built on it.</summary>
    public void Delete(string idOrName, Func<string, bool> usedByBox)
    {
        var record = Find(idOrName) ?? throw NotFoundException.Snapshot(idOrName);
        if ((record.Kind == SnapshotKind.Host && record.Layers.Count == 0) || record.Id == Default.Id)
        {
            throw new ConflictException("The built-in 'default' snapshot cannot be deleted");
        }

        string layerPrefix = _data.SnapshotDirectory(record.Id) + Path.DirectorySeparatorChar;
        if (_snapshots.Values.Any(s => s.Id != record.Id && (s.Layers.Any(l => l.StartsWith(layerPrefix, StringComparison.Ordinal))
            || (s.RootfsPath?.StartsWith(layerPrefix, StringComparison.Ordinal) ?? false))))
        {
            throw new ConflictException($"Snapshot '{record.Id}' is in use by other snapshots captured from it");
        }

        if (usedByBox(record.Id))
        {
            throw new ConflictException($"Snapshot '{record.Id}' is in use by existing sandboxes; delete them first");
        }

        _snapshots.TryRemove(record.Id, out _);
        _ = Task.Run(() => FileTree.Delete(_data.SnapshotDirectory(record.Id)));
    }
}
