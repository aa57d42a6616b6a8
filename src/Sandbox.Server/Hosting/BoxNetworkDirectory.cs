using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Sandbox.Server.Api;
using Sandbox.Server.Files;
using Sandbox.Server.Networking;
using Sandbox.Server.Runtime;

namespace Sandbox.Server;

/// <summary>The networking features' view of the box runtime (adapter over <see cref="BoxManager"/>).</summary>
internal sealed class BoxNetworkDirectory : IBoxNetworkDirectory
{
    private static readonly TimeSpan HandleLifetime = TimeSpan.FromMinutes(5);
    private readonly BoxManager _boxes;
    private readonly TimeProvider _time;

    public BoxNetworkDirectory(BoxManager boxes, TimeProvider time)
    {
        _boxes = boxes;
        _time = time;
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
        catch (ApiException)
        {
            // The target then reports no network namespace; callers answer "not running".
        }

        return Target(box);
    }

    /// <summary>
    /// Resolves <paramref name="path"/> inside the box root (openat2 RESOLVE_IN_ROOT, so symlinks cannot leave the box) and
    /// returns <c>/proc/self/fd/N</c> for the opened file: opening that path reopens exactly this file, with no further
    /// path resolution. The descriptor is closed after a few minutes.
    /// </summary>
    public ValueTask<string?> ResolveFileAsync(string id, string path, CancellationToken cancellationToken = default)
    {
        if (_boxes.Find(id) is not { Running: { } running })
        {
            return ValueTask.FromResult<string?>(null);
        }

        try
        {
            var handle = running.Files.OpenRead(FileEndpoints.ResolvePath(path), out var status);
            if (!status.IsRegularFile)
            {
                handle.Dispose();
                return ValueTask.FromResult<string?>(null);
            }

            KeepAlive(handle);
            return ValueTask.FromResult<string?>("/proc/self/fd/" + handle.DangerousGetHandle().ToInt32().ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is BoxFileException or ApiException or ExternalException)
        {
            return ValueTask.FromResult<string?>(null);
        }
    }

    private void KeepAlive(SafeFileHandle handle)
    {
        ITimer? timer = null;
        timer = _time.CreateTimer(_ =>
        {
            handle.Dispose();
            timer?.Dispose();
        }, null, HandleLifetime, Timeout.InfiniteTimeSpan);
    }

    private static BoxNetworkTarget Target(Box box) => new(box.Id, box.Name, box.Running is { HasExited: false } r ? r.NetworkNamespacePath : null);
}
