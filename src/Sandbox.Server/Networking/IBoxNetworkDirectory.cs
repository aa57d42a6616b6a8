namespace Sandbox.Server.Networking;

/// <summary>
/// The networking features' view of the boxes: finds a box by id or name and tells where its network namespace is.
/// Implemented over the server core's box registry; tests supply their own.
/// </summary>
internal interface IBoxNetworkDirectory
{
    /// <summary>Finds a box by id, then by name; <see langword="null"/> when there is none.</summary>
    ValueTask<BoxNetworkTarget?> FindAsync(string idOrName, CancellationToken cancellationToken = default);

    /// <summary>Starts a stopped box (a download-link fetch or service request wakes it); returns its new state.</summary>
    ValueTask<BoxNetworkTarget?> EnsureRunningAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens the regular file at <paramref name="path"/> inside the box (absolute, or relative to the box's working
    /// directory) for reading, or returns <see langword="null"/> when there is no such file. Must refuse paths escaping
    /// the box. An opened stream, never a path: a host path would be resolved again later, outside the box's root.
    /// </summary>
    ValueTask<FileStream?> OpenFileAsync(string id, string path, CancellationToken cancellationToken = default);

    /// <summary>The box's stored proxy_config, unredacted; the egress proxy picks up changes (PATCH) from it.</summary>
    Sandbox.Protocol.ProxyConfig? GetProxyConfig(string id) => null;

    /// <summary>Records activity on the box (service requests, tunnel streams, downloads, egress), so idle_ttl does not stop a box in use.</summary>
    void MarkActive(string id)
    {
    }
}
