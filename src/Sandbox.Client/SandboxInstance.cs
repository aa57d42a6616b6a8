using Sandbox.Client.Diagnostics;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// A handle to one sandbox: commands, files, service URLs and lifecycle. Obtained from <see cref="SandboxClient"/>.
/// </summary>
/// <remarks>
/// Thread-safe. Data-plane calls need only a <c>dataplane_url</c> (a stopped sandbox is resumed by the platform on
/// arrival); without one they throw <see cref="DataplaneNotConfiguredException"/> before sending anything.
/// <see cref="DisposeAsync"/> deletes the sandbox only when this instance created it (errors ignored).
/// </remarks>
public sealed partial class SandboxInstance : IAsyncDisposable
{
    private readonly bool _ownsSandbox;
    private SandboxInfo _info;
    private int _disposed;

    internal SandboxInstance(SandboxClient client, SandboxInfo info, bool ownsSandbox)
    {
        Client = client;
        _info = info;
        _ownsSandbox = ownsSandbox;
        SandboxTracing.RecordSandbox(info.Id);
    }

    /// <summary>The sandbox name (its key on the control plane).</summary>
    public string Name => _info.Name;

    /// <summary>The last known sandbox object (updated by <see cref="RefreshAsync"/>, <see cref="StartAsync"/>,
    /// <see cref="StopAsync"/> and <see cref="UpdateAsync"/>).</summary>
    public SandboxInfo Info => Volatile.Read(ref _info);

    /// <summary>The data-plane base URL, or null when the sandbox has none.</summary>
    public string? DataplaneUrl => Info.DataplaneUrl;

    internal SandboxClient Client { get; }

    /// <summary>Refreshes <see cref="Info"/> (<c>GET /boxes/{name}</c>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The current sandbox object.</returns>
    public async Task<SandboxInfo> RefreshAsync(CancellationToken cancellationToken = default)
    {
        var info = await Client.GetSandboxInfoAsync(Name, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _info, info);
        return info;
    }

    /// <summary>Starts the sandbox and waits until it is ready; <see cref="Info"/> then carries the new status and
    /// data-plane URL.</summary>
    /// <param name="timeout">How long to wait for readiness (default 120 s).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The ready sandbox.</returns>
    public async Task<SandboxInfo> StartAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var info = await Client.StartSandboxAsync(Name, timeout, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _info, info);
        return info;
    }

    /// <summary>Stops the sandbox; <see cref="Info"/> then reports <c>stopped</c> and keeps its data-plane URL.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the stop.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await Client.StopSandboxAsync(Name, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _info, Info with { Status = SandboxStatus.Stopped });
    }

    /// <summary>Deletes the sandbox.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the deletion.</returns>
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        await Client.DeleteSandboxAsync(Name, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _disposed, 1);
    }

    /// <summary>Updates the sandbox (see <see cref="SandboxClient.UpdateSandboxAsync"/>) and refreshes <see cref="Info"/>.</summary>
    /// <param name="options">The fields to change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The updated sandbox.</returns>
    public async Task<SandboxInfo> UpdateAsync(UpdateSandboxOptions options, CancellationToken cancellationToken = default)
    {
        var info = await Client.UpdateSandboxAsync(Name, options, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _info, info);
        return info;
    }

    /// <summary>Gets the sandbox status (<c>GET /boxes/{name}/status</c>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The status.</returns>
    public Task<SandboxStatusInfo> GetStatusAsync(CancellationToken cancellationToken = default) =>
        Client.GetSandboxStatusAsync(Name, cancellationToken);

    /// <summary>Mints a service URL for a port inside this sandbox (see <see cref="SandboxClient.GetServiceUrlAsync"/>).</summary>
    /// <param name="port">The port inside the sandbox.</param>
    /// <param name="options">Lifetime and embed origins.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The service URL.</returns>
    public Task<ServiceUrl> GetServiceUrlAsync(int port, ServiceUrlOptions? options = null, CancellationToken cancellationToken = default) =>
        Client.GetServiceUrlAsync(Name, port, options, cancellationToken);

    /// <summary>Mints a download link for a file in this sandbox (see <see cref="SandboxClient.CreateDownloadUrlAsync"/>).</summary>
    /// <param name="path">The file path.</param>
    /// <param name="options">Lifetime, content type and disposition.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The link.</returns>
    public Task<DownloadUrlInfo> CreateDownloadUrlAsync(string path, DownloadUrlOptions? options = null, CancellationToken cancellationToken = default) =>
        Client.CreateDownloadUrlAsync(Name, path, options, cancellationToken);

    /// <summary>Captures a snapshot of this sandbox and waits until it is ready.</summary>
    /// <param name="snapshotName">The snapshot name.</param>
    /// <param name="options">Export options and wait timeout.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The ready snapshot.</returns>
    public Task<SnapshotInfo> CaptureSnapshotAsync(string snapshotName, CaptureSnapshotOptions? options = null, CancellationToken cancellationToken = default) =>
        Client.CaptureSnapshotAsync(Name, snapshotName, options, cancellationToken);

    /// <summary>Deletes the sandbox if this instance created it (errors ignored); otherwise does nothing.</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (!_ownsSandbox || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Client.DeleteSandboxAsync(Name, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SandboxException or TimeoutException or OperationCanceledException or HttpRequestException)
        {
            // Like the Python context manager: cleanup errors are ignored.
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"SandboxInstance (name: {Name}, status: {Info.Status})";

    /// <summary>The data-plane URL, or <see cref="DataplaneNotConfiguredException"/> when absent (spec §8.1).</summary>
    internal string RequireDataplane()
    {
        var info = Info;
        if (string.IsNullOrEmpty(info.DataplaneUrl))
        {
            throw new DataplaneNotConfiguredException($"Sandbox '{Name}' has no dataplane_url; data-plane operations are unavailable");
        }

        SandboxTracing.RecordSandbox(info.Id);
        return info.DataplaneUrl;
    }

    /// <summary>The WebSocket form of <c>{dataplane_url}{path}</c> (spec §8.1), e.g. <c>/execute/ws</c> or <c>/tunnel</c>
    /// (the tunnel strips trailing slashes of the data-plane URL first).</summary>
    internal Uri GetDataplaneWebSocketUri(string path, bool trimTrailingSlashes = false) =>
        WebSocketConnector.ToWebSocketUri(RequireDataplane(), path, trimTrailingSlashes);

    internal Uri DataplaneUrlFor(string path) => new(RequireDataplane() + path);
}
