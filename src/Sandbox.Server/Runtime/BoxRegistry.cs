using System.Collections.Concurrent;
using Sandbox.Protocol;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;

namespace Sandbox.Server.Runtime;

/// <summary>The known boxes by id and name, and their persisted records (<c>boxes/{id}/box.json</c>).</summary>
/// <remarks>Thread-safe. Name changes (create, rename) happen under <see cref="NamesGate"/>.</remarks>
internal sealed class BoxRegistry
{
    private readonly ConcurrentDictionary<string, Box> _boxes = new(StringComparer.Ordinal);
    private readonly DataDirectory _data;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BoxTeardown _teardown;

    public BoxRegistry(DataDirectory data, TimeProvider time, BoxTeardown teardown, ILogger logger)
    {
        _teardown = teardown;
        _data = data;
        _time = time;
        _logger = logger;
    }

    /// <summary>Held while a name is checked and taken, so two boxes never get the same name.</summary>
    public object NamesGate { get; } = new();

    /// <summary>Every registered box, deleted ones included until they are removed.</summary>
    public ICollection<Box> All => _boxes.Values;

    /// <summary>Finds a box by name or id (the networking seam uses this too).</summary>
    public Box? Find(string nameOrId)
    {
        if (_boxes.TryGetValue(nameOrId, out var byId) && !byId.Deleted)
        {
            return byId;
        }

        return _boxes.Values.FirstOrDefault(b => !b.Deleted && b.Name == nameOrId);
    }

    public Box Get(string name) => Find(name) ?? throw NotFoundException.Box(name);

    public IReadOnlyList<Box> List() => [.. _boxes.Values.Where(b => !b.Deleted).OrderBy(b => b.Record.CreatedAt)];

    public bool IsSnapshotInUse(string snapshotId) => _boxes.Values.Any(b => !b.Deleted && b.Record.SnapshotId == snapshotId);

    public void Add(Box box) => _boxes[box.Id] = box;

    public void Remove(string id) => _boxes.TryRemove(id, out _);

    /// <summary>A free <c>sandbox-xxxxxx</c> name; call under <see cref="NamesGate"/>.</summary>
    public string GenerateName()
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

    public void Save(BoxRecord record)
    {
        if (!record.IsSpare && Directory.Exists(_data.BoxDirectory(record.Id)))
        {
            AtomicFile.WriteJson(_data.BoxMetadata(record.Id), record);
        }
    }

    /// <summary>Marks a box stopped (its processes are gone) and persists the record.</summary>
    public void SetStopped(Box box, string? message)
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

    /// <summary>Loads persisted boxes; every box comes back <c>stopped</c> (its processes did not survive the restart); boxes left <c>deleting</c> are torn down.</summary>
    public void Load()
    {
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
    }

    /// <summary>Removes (in the background) box folders without metadata: warm boxes of an earlier run that were never handed out.</summary>
    public void RemoveLeftovers()
    {
        foreach (string dir in Directory.GetDirectories(_data.Boxes).Where(d => !File.Exists(Path.Combine(d, "box.json"))))
        {
            _teardown.Enqueue(Path.GetFileName(dir), null, dir); // a warm box that was never handed out
        }
    }
}
