using System.Globalization;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Snapshot operations (spec §6.11–6.15, §4.4).</summary>
public sealed partial class SandboxClient
{
    /// <summary>Builds a snapshot from a Docker image (<c>POST /snapshots</c>) and waits until it is ready.</summary>
    /// <param name="name">The snapshot name.</param>
    /// <param name="dockerImage">The image reference, e.g. <c>python:3.12-slim</c>.</param>
    /// <param name="fsCapacityBytes">Filesystem capacity in bytes.</param>
    /// <param name="options">Registry, run configuration and wait timeout.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The ready snapshot.</returns>
    /// <exception cref="ResourceCreationException">The build failed.</exception>
    /// <exception cref="ResourceTimeoutException">Not ready in time.</exception>
    /// <exception cref="ResourceAlreadyExistsException">A snapshot with that name exists (409).</exception>
    public async Task<SnapshotInfo> CreateSnapshotAsync(string name, string dockerImage, long fsCapacityBytes, CreateSnapshotOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(dockerImage);
        options ??= new CreateSnapshotOptions();
        var request = new CreateSnapshotRequest
        {
            Name = name,
            DockerImage = dockerImage,
            FsCapacityBytes = fsCapacityBytes,
            RegistryId = options.RegistryId,
            RunConfig = options.RunConfig,
        };
        var snapshot = await SendControlAsync<SnapshotInfo>(HttpMethod.Post, "/snapshots", request, SnapshotNameTaken, cancellationToken).ConfigureAwait(false);
        return await WaitForSnapshotAsync(snapshot.Id, options.Timeout, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Captures a snapshot of a sandbox (<c>POST /boxes/{name}/snapshot</c>) and waits until it is ready.</summary>
    /// <param name="sandboxName">The sandbox to capture.</param>
    /// <param name="snapshotName">The name of the new snapshot.</param>
    /// <param name="options">Docker image export, capacity, run configuration and wait timeout.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The ready snapshot.</returns>
    /// <exception cref="ResourceNotFoundException">No such sandbox.</exception>
    /// <exception cref="ResourceAlreadyExistsException">A snapshot with that name exists (409).</exception>
    public async Task<SnapshotInfo> CaptureSnapshotAsync(string sandboxName, string snapshotName, CaptureSnapshotOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(snapshotName);
        options ??= new CaptureSnapshotOptions();
        var request = new CaptureSnapshotRequest
        {
            Name = snapshotName,
            DockerImage = options.DockerImage,
            FsCapacityBytes = options.FsCapacityBytes,
            RunConfig = options.RunConfig,
        };
        var path = "/boxes/" + SandboxRuntime.Segment(sandboxName, "name") + "/snapshot";
        var snapshot = await SendControlAsync<SnapshotInfo>(HttpMethod.Post, path, request, (status, body, message) =>
            SandboxNotFound(sandboxName)(status, body, message) ?? SnapshotNameTaken(status, body, message), cancellationToken).ConfigureAwait(false);
        return await WaitForSnapshotAsync(snapshot.Id, options.Timeout, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets a snapshot (<c>GET /snapshots/{id}</c>).</summary>
    /// <param name="snapshotId">The snapshot id (or a <c>name[:tag]</c> reference the server resolves).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The snapshot.</returns>
    /// <exception cref="ResourceNotFoundException">No such snapshot (resource type <c>snapshot</c>).</exception>
    public Task<SnapshotInfo> GetSnapshotAsync(string snapshotId, CancellationToken cancellationToken = default) =>
        SendControlAsync<SnapshotInfo>(HttpMethod.Get, "/snapshots/" + SandboxRuntime.Segment(snapshotId, "snapshot_id"), null, SnapshotNotFound(snapshotId), cancellationToken);

    /// <summary>Lists snapshots (<c>GET /snapshots</c>); sends no query string unless an option is set.</summary>
    /// <param name="options">Filter and paging.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The snapshots of the page.</returns>
    /// <exception cref="SandboxApiException">The endpoint does not exist (404).</exception>
    public async Task<IReadOnlyList<SnapshotInfo>> ListSnapshotsAsync(ListSnapshotsOptions? options = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (options?.NameContains is { } contains)
        {
            query.Add("name_contains=" + Uri.EscapeDataString(contains));
        }

        if (options?.Limit is { } limit)
        {
            query.Add("limit=" + limit.ToString(CultureInfo.InvariantCulture));
        }

        if (options?.Offset is { } offset)
        {
            query.Add("offset=" + offset.ToString(CultureInfo.InvariantCulture));
        }

        var path = query.Count == 0 ? "/snapshots" : "/snapshots?" + string.Join('&', query);
        var list = await SendControlAsync<SnapshotList>(HttpMethod.Get, path, null, EndpointMissing("/snapshots"), cancellationToken).ConfigureAwait(false);
        return list.Snapshots ?? [];
    }

    /// <summary>Deletes a snapshot (<c>DELETE /snapshots/{id}</c>).</summary>
    /// <param name="snapshotId">The snapshot id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the deletion.</returns>
    /// <exception cref="ResourceNotFoundException">No such snapshot.</exception>
    /// <exception cref="ResourceInUseException">Sandboxes or other snapshots still use it (409).</exception>
    public Task DeleteSnapshotAsync(string snapshotId, CancellationToken cancellationToken = default) =>
        SendControlAsync(HttpMethod.Delete, "/snapshots/" + SandboxRuntime.Segment(snapshotId, "snapshot_id"), null, (status, body, message) =>
            status == 409 ? new ResourceInUseException(message, "snapshot") : SnapshotNotFound(snapshotId)(status, body, message), cancellationToken);

    /// <summary>Polls <c>GET /snapshots/{id}</c> until <c>ready</c> (spec §4.4: default 300 s, every 2 s).</summary>
    /// <param name="snapshotId">The snapshot id.</param>
    /// <param name="timeout">Deadline (default 300 s).</param>
    /// <param name="pollInterval">Pause between polls (default 2 s).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The ready snapshot.</returns>
    /// <exception cref="ResourceCreationException">The build failed (message = its status message).</exception>
    /// <exception cref="ResourceTimeoutException">Not ready in time; carries the last status.</exception>
    public async Task<SnapshotInfo> WaitForSnapshotAsync(string snapshotId, TimeSpan? timeout = null, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(300);
        var interval = pollInterval ?? TimeSpan.FromSeconds(2);
        var deadline = _runtime.Time.GetUtcNow() + limit;
        while (true)
        {
            var snapshot = await GetSnapshotAsync(snapshotId, cancellationToken).ConfigureAwait(false);
            if (snapshot.Status == SnapshotStatus.Ready)
            {
                return snapshot;
            }

            if (snapshot.Status == SnapshotStatus.Failed)
            {
                throw new ResourceCreationException(
                    string.IsNullOrEmpty(snapshot.StatusMessage) ? "Snapshot build failed" : snapshot.StatusMessage, "snapshot");
            }

            var remaining = deadline - _runtime.Time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                throw new ResourceTimeoutException(
                    $"Snapshot '{snapshotId}' not ready after {limit.TotalSeconds:0.###}s", "snapshot", snapshot.Status);
            }

            await _runtime.DelayAsync(interval < remaining ? interval : remaining, cancellationToken).ConfigureAwait(false);
        }
    }

    private static ErrorOverride SnapshotNotFound(string id) =>
        (status, _, _) => status == 404 ? new ResourceNotFoundException($"Snapshot '{id}' not found", "snapshot") : null;

    private static readonly ErrorOverride SnapshotNameTaken =
        (status, _, message) => status == 409 ? new ResourceAlreadyExistsException(message, "snapshot") : null;
}
