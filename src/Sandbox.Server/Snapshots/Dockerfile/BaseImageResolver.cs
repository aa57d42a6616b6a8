using System.Security.Cryptography;
using Sandbox.Protocol;
using Sandbox.Server.Errors;
using Sandbox.Server.Runtime;
using Sandbox.Server.Snapshots.Registry;

namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>
/// FROM of a Dockerfile build: resolves the base to a snapshot of this server or pulls the image from a registry
/// (<see cref="ImagePuller"/>, with the credentials of a registry configured for its host), relaying the pull's progress
/// to the build log; removes snapshots the build no longer needs.
/// </summary>
internal sealed class BaseImageResolver(BoxManager boxes)
{
    /// <summary>
    /// The snapshot <paramref name="image"/> names: a ready snapshot of this server, an image pulled before, or a new pull
    /// (<c>PulledNow</c>: the caller removes it if the build fails).
    /// </summary>
    public async Task<(SnapshotRecord Snapshot, bool PulledNow)> ResolveAsync(string image, DockerfileInstruction from, Action<string> log, CancellationToken cancellationToken)
    {
        if (image == "scratch")
        {
            throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {from.Line}: FROM scratch is not supported (RUN steps need a shell in the image); start from an image or a snapshot");
        }

        var snapshots = boxes.Snapshots;
        if (snapshots.Find(image) is { Status: SnapshotStatus.Ready } local)
        {
            log($"  base: snapshot '{local.Name}' ({local.Id})");
            return (local, false);
        }

        if (!ImageReference.TryParse(image, out var reference, out string? error))
        {
            throw new DockerfileBuildException(DockerfileBuildError.BaseImage, $"line {from.Line}: '{image}' is neither a snapshot of this server nor an image reference: {error}");
        }

        if (snapshots.List().FirstOrDefault(s => s.Status == SnapshotStatus.Ready && s.DockerImage == image && s.Layers.Count == 0) is { } pulled)
        {
            log($"  base: {image}, pulled before as snapshot '{pulled.Name}'");
            return (pulled, false);
        }

        var registry = snapshots.Registries.List().FirstOrDefault(r => r.Host == reference!.Registry);
        string name = "image-" + new string([.. image.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '-').Take(114)]);
        if (snapshots.Find(name) is not null)
        {
            name += "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        }

        log($"  base: pulling {image}{(registry is null ? "" : $" with the credentials of registry '{registry.Name}'")} into snapshot '{name}'");
        SnapshotRecord record;
        try
        {
            record = snapshots.CreateFromImage(new SnapshotCreateParameters { Name = name, DockerImage = image, Image = reference, RegistryId = registry?.Id });
        }
        catch (DomainException e)
        {
            throw new DockerfileBuildException(DockerfileBuildError.BaseImage, $"line {from.Line}: FROM {image}: {e.Message}", e);
        }

        string? last = null;
        while (record.Status == SnapshotStatus.Building)
        {
            if (record.StatusMessage is { } message && message != last)
            {
                log("  " + message);
                last = message;
            }

            try
            {
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the pull runs on; its snapshot is removed once it ends
                _ = Task.Run(async () =>
                {
                    while (record.Status == SnapshotStatus.Building)
                    {
                        await Task.Delay(1000, CancellationToken.None).ConfigureAwait(false);
                    }

                    TryDeleteSnapshot(record.Id);
                }, CancellationToken.None);
                throw;
            }
        }

        if (record.Status != SnapshotStatus.Ready)
        {
            string message = record.StatusMessage ?? "the pull failed";
            TryDeleteSnapshot(record.Id);
            throw new DockerfileBuildException(DockerfileBuildError.BaseImage, $"line {from.Line}: FROM {image}: {message}");
        }

        return (record, true);
    }

    /// <summary>Deletes snapshot <paramref name="id"/> unless something uses it now (then it stays).</summary>
    public void TryDeleteSnapshot(string id)
    {
        try
        {
            boxes.Snapshots.Delete(id, boxes.IsSnapshotInUse);
        }
        catch (DomainException)
        {
            // in use by something else now: it stays
        }
    }
}
