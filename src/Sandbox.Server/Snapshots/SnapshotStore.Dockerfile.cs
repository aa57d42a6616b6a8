using Sandbox.Server.Errors;

namespace Sandbox.Server.Snapshots;

/// <summary>Snapshots built from Dockerfiles (<see cref="Dockerfile.DockerfileBuilds"/>).</summary>
internal sealed partial class SnapshotStore
{
    /// <summary>Gives a built snapshot its final name (the capture call's <c>name</c>, checked at the API edge).</summary>
    public void Rename(SnapshotRecord record, string name)
    {
        lock (_createGate)
        {
            if (_snapshots.Values.Any(s => s.Id != record.Id && s.Name == name && s.Status != Protocol.SnapshotStatus.Failed))
            {
                throw new ConflictException($"Snapshot name '{name}' already in use");
            }

            record.Name = name;
            record.UpdatedAt = _time.GetUtcNow();
            Save(record);
        }
    }
}
