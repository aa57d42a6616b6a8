using Sandbox.Protocol;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;
using Sandbox.Server.Files;
using Sandbox.Server.Runtime;
using Sandbox.Server.Snapshots.Registry;

namespace Sandbox.Server.Snapshots;

/// <summary>Snapshots pulled from registries (spec §6.12 with <c>registry_id</c>, §6.17).</summary>
internal sealed partial class SnapshotStore
{
    private static readonly HttpClient SharedRegistryHttp = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
        AllowAutoRedirect = true, // blob redirects (object storage); HttpClient drops Authorization on redirect
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private readonly ImagePuller _puller;

    /// <summary>Stored registry credentials (write-only through the API).</summary>
    public RegistryStore Registries { get; }

    private SnapshotRecord CreateFromRegistry(SnapshotCreateParameters request, ImageReference image)
    {
        string text = request.DockerImage.Trim();
        RegistryRecord? registry = null;
        if (request.RegistryId is { Length: > 0 } registryId)
        {
            registry = Registries.Find(registryId) ?? throw new InvalidRequestException("registry_id", $"Registry '{registryId}' not found");
            string host = registry.Host;
            bool explicitHost = image.Registry != ImageReference.DockerHub || text.StartsWith("docker.io/", StringComparison.Ordinal);
            if (!explicitHost && host != ImageReference.DockerHub && ImageReference.TryParse(host + "/" + text, out var onRegistry, out _))
            {
                image = onRegistry!;
            }
            else if (image.Registry != host)
            {
                throw new InvalidRequestException("registry_id",
                    $"Registry '{registry.Name}' is for {host}, but docker_image is on {image.Registry}; credentials are only sent to their own registry");
            }
        }

        var record = Importing(request);
        record.StatusMessage = $"Pulling {image}";
        record.RegistryId = registry?.Id;
        Register(record, withRootfs: true);
        var pulled = image;
        _ = Task.Run(() => PullAsync(record, pulled, registry, request.RunConfig, record.RootfsPath!));
        return record;
    }

    private async Task PullAsync(SnapshotRecord record, ImageReference image, RegistryRecord? registry, RunConfig? requested, string rootfs)
    {
        long lastSave = 0;
        void Progress(string line)
        {
            record.StatusMessage = line;
            long now = Environment.TickCount64;
            if (now - Interlocked.Read(ref lastSave) >= 1000)
            {
                Interlocked.Exchange(ref lastSave, now);
                record.UpdatedAt = _time.GetUtcNow();
                Save(record);
            }
        }

        try
        {
            var pulledImage = await _puller.PullAsync(image, registry, rootfs, Progress, CancellationToken.None).ConfigureAwait(false);
            record.RunConfig = RunConfigs.Layer(pulledImage.RunConfig, requested);
            record.ImageDigest = pulledImage.Digest;
            record.FsUsedBytes = FileTree.Size(rootfs);
            record.StatusMessage = null;
            record.Status = SnapshotStatus.Ready;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.SnapshotBuildFailed(_logger, record.Id, e);
            FileTree.Delete(rootfs);
            record.Status = SnapshotStatus.Failed;
            record.StatusMessage = e is SnapshotImportException ? $"Pull of {image} failed: {e.Message}" : $"Pull of {image} failed: {e.GetType().Name}: {e.Message}";
        }

        record.UpdatedAt = _time.GetUtcNow();
        Save(record);
    }
}
