using System.Runtime.InteropServices;
using Sandbox.Server.Api;
using Sandbox.Server.Errors;
using Sandbox.Server.Files;
using Sandbox.Server.Networking;
using Sandbox.Server.Runtime;

namespace Sandbox.Server;

/// <summary>The networking features' view of the box runtime (adapter over <see cref="BoxManager"/>).</summary>
internal sealed class BoxNetworkDirectory : IBoxNetworkDirectory
{
    private readonly BoxManager _boxes;

    public BoxNetworkDirectory(BoxManager boxes)
    {
        _boxes = boxes;
    }

    public ValueTask<BoxNetworkTarget?> FindAsync(string idOrName, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_boxes.Find(idOrName) is { } box ? Target(box) : null);

    public async ValueTask<BoxNetworkTarget?> EnsureRunningAsync(string id, CancellationToken cancellationToken = default)
    {
        if (_boxes.Find(id) is not { } box)
        {
            return null;
        }

        try
        {
            await _boxes.EnsureRunningAsync(box, cancellationToken).ConfigureAwait(false);
        }
        catch (DomainException)
        {
            // The target then reports no network namespace; callers answer "not running".
        }

        return Target(box);
    }

    /// <summary>
    /// Opens <paramref name="path"/> inside the box root (openat2 RESOLVE_IN_ROOT, so symlinks cannot leave the box) and
    /// wraps the descriptor in a read-only, seekable stream. The caller disposes it.
    /// </summary>
    public ValueTask<FileStream?> OpenFileAsync(string id, string path, CancellationToken cancellationToken = default)
    {
        if (_boxes.Find(id) is not { Running: { } running })
        {
            return ValueTask.FromResult<FileStream?>(null);
        }

        try
        {
            var handle = running.Files.OpenRead(FileEndpoints.ResolvePath(path), out var status);
            if (!status.IsRegularFile)
            {
                handle.Dispose();
                return ValueTask.FromResult<FileStream?>(null);
            }

            return ValueTask.FromResult<FileStream?>(new FileStream(handle, FileAccess.Read, bufferSize: 0));
        }
        catch (Exception e) when (e is BoxFileException or DomainException or ExternalException)
        {
            return ValueTask.FromResult<FileStream?>(null);
        }
    }

    public Sandbox.Protocol.ProxyConfig? GetProxyConfig(string id) => _boxes.Find(id)?.Record.ProxyConfig;

    public void MarkActive(string id) => _boxes.Find(id)?.Touch(_boxes.Time);

    private static BoxNetworkTarget Target(Box box) => new(box.Id, box.Name, box.Running is { HasExited: false } r ? r.NetworkNamespacePath : null);
}
