using System.Net.Http.Json;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// Client of the LangSmith Sandbox API: the control plane (sandboxes, snapshots, service and download URLs, registries)
/// and, through <see cref="SandboxInstance"/>, the data plane of each sandbox.
/// </summary>
/// <remarks>
/// Thread-safe; create one per endpoint and reuse it (register it with <c>services.AddSandboxClient()</c>). Every HTTP
/// request goes through the Python SDK's retry transport (spec §4.1): 502/503/504, 429 (honouring <c>Retry-After</c>) and
/// connect failures are retried; 500, 408 and the rest never are. Where the Python and JS SDKs differ, this client
/// follows Python (spec §10.1). <see cref="ToString"/> shows the endpoint and never the API key.
/// </remarks>
public sealed partial class SandboxClient : IDisposable
{
    private readonly SandboxRuntime _runtime;
    private SandboxRegistries? _registries;

    /// <summary>Creates a client configured from the environment (<see cref="SandboxClientOptions.FromEnvironment"/>).</summary>
    public SandboxClient()
        : this(SandboxClientOptions.FromEnvironment())
    {
    }

    /// <summary>Creates a client with explicit options; null values fall back to the environment.</summary>
    /// <param name="options">The options; copied, later changes have no effect.</param>
    public SandboxClient(SandboxClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _runtime = new SandboxRuntime(options.Clone());
    }

    /// <summary>The control-plane base URL every box and snapshot path is appended to.</summary>
    public Uri BaseUrl => _runtime.BaseUrl;

    /// <summary>Container registries (credentials for private images) at <c>{root}/api/v2/sandboxes/registries</c>.</summary>
    public SandboxRegistries Registries => _registries ??= new SandboxRegistries(_runtime);

    internal SandboxRuntime Runtime => _runtime;

    /// <summary>The configured API key (for the tunnel code of this assembly); never logged.</summary>
    internal string? ApiKey => _runtime.ApiKey;

    /// <summary>The options the client runs with.</summary>
    internal SandboxClientOptions Options => _runtime.Options;

    /// <summary>
    /// Opens an authenticated WebSocket through the client's HTTP handler (for the tunnel code of this assembly): sends
    /// <c>X-Api-Key</c>, plus the default headers when <paramref name="includeDefaultHeaders"/>, plus
    /// <paramref name="headers"/>; rejected upgrades map as spec §8.5.1.
    /// </summary>
    internal Task<System.Net.WebSockets.WebSocket> ConnectWebSocketAsync(
        Uri webSocketUri,
        bool includeDefaultHeaders,
        IReadOnlyDictionary<string, string>? headers = null,
        bool keepAlive = true,
        CancellationToken cancellationToken = default)
    {
        var merged = _runtime.Headers(includeDefaultHeaders);
        foreach (var pair in headers ?? new Dictionary<string, string>())
        {
            merged[pair.Key] = pair.Value;
        }

        return WebSocketConnector.ConnectAsync(_runtime, webSocketUri, merged, _runtime.Options.WebSocketOpenTimeout, keepAlive, cancellationToken);
    }

    /// <summary>Creates a <see cref="System.Net.WebSockets.ClientWebSocket"/> carrying the client's credentials (not yet
    /// connected; connect it with <c>ConnectAsync(uri, invoker, ct)</c> using <see cref="SandboxRuntime.SocketInvoker"/>).</summary>
    internal System.Net.WebSockets.ClientWebSocket CreateAuthenticatedClientWebSocket(bool includeDefaultHeaders)
    {
        var socket = new System.Net.WebSockets.ClientWebSocket();
        foreach (var pair in _runtime.Headers(includeDefaultHeaders))
        {
            socket.Options.SetRequestHeader(pair.Key, pair.Value);
        }

        socket.Options.KeepAliveInterval = _runtime.Options.WebSocketPingInterval > TimeSpan.Zero ? _runtime.Options.WebSocketPingInterval : TimeSpan.Zero;
        return socket;
    }

    /// <summary>
    /// Creates a sandbox (<c>POST /boxes</c>). With <see cref="CreateSandboxOptions.WaitForReady"/> (the default) the server
    /// answers once the sandbox is ready; the returned instance owns the sandbox and deletes it on dispose.
    /// </summary>
    /// <param name="options">Creation options.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A handle to the new sandbox.</returns>
    /// <exception cref="SandboxValidationException">Invalid options; no request is sent.</exception>
    /// <exception cref="ResourceTimeoutException">The server gave up waiting for readiness (408).</exception>
    /// <exception cref="ResourceCreationException">The sandbox could not be created (422 non-validation, 503).</exception>
    /// <exception cref="QuotaExceededException">A quota was hit (429 after retries).</exception>
    /// <exception cref="ResourceAlreadyExistsException">A sandbox with that name exists (409).</exception>
    public async Task<SandboxInstance> CreateSandboxAsync(CreateSandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new CreateSandboxOptions();
        var request = BuildCreateRequest(options);
        var wait = options.WaitForReady;
        var httpTimeout = wait ? TimeSpan.FromSeconds(request.Timeout!.Value + 30) : TimeSpan.FromSeconds(30);
        using var message = new HttpRequestMessage(HttpMethod.Post, _runtime.ControlUrl("/boxes")) { Content = SandboxRuntime.JsonBody(request) };
        using var response = await _runtime.SendAsync(message, httpTimeout, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var body = await SandboxRuntime.ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            throw ErrorMapper.CreateSandbox((int)response.StatusCode, response.ReasonPhrase, body);
        }

        var info = await SandboxRuntime.ReadJsonAsync<SandboxInfo>(response, cancellationToken).ConfigureAwait(false);
        return new SandboxInstance(this, Normalize(info), ownsSandbox: true);
    }

    internal static CreateSandboxRequest BuildCreateRequest(CreateSandboxOptions options)
    {
        if (!string.IsNullOrEmpty(options.SnapshotId) && !string.IsNullOrEmpty(options.SnapshotName))
        {
            throw new SandboxValidationException("At most one of snapshot_id or snapshot_name may be set", "snapshot_id");
        }

        if (options.MountConfig is not null && options.ProxyConfig is not null)
        {
            SandboxConfig.CheckProviderConflict(options.MountConfig, options.ProxyConfig);
        }

        int? timeout = null;
        if (options.WaitForReady)
        {
            timeout = options.Timeout is { } t ? WholeSeconds(t, "timeout", allowZero: true) : 30;
            if (timeout < 0)
            {
                throw new SandboxValidationException("timeout must be >= 0", "timeout");
            }
        }

        return new CreateSandboxRequest
        {
            WaitForReady = options.WaitForReady,
            Persistent = options.Persistent,
            PreserveMemoryOnStop = options.PreserveMemoryOnStop,
            RestoreMemory = options.RestoreMemory,
            SnapshotId = string.IsNullOrEmpty(options.SnapshotId) ? null : options.SnapshotId,
            SnapshotName = string.IsNullOrEmpty(options.SnapshotName) ? null : options.SnapshotName,
            Timeout = timeout,
            Name = string.IsNullOrEmpty(options.Name) ? null : options.Name,
            IdleTtlSeconds = Retention(options.IdleTtl, "idle_ttl_seconds"),
            DeleteAfterStopSeconds = Retention(options.DeleteAfterStop, "delete_after_stop_seconds"),
            Vcpus = options.Vcpus,
            MemBytes = options.MemBytes,
            FsCapacityBytes = options.FsCapacityBytes,
            Labels = options.Labels,
            MountConfig = options.MountConfig,
            ProxyConfig = options.ProxyConfig,
            RunConfig = options.RunConfig,
            AccessDelegation = options.AccessDelegation is null ? null : SandboxConfig.NormalizeAccessDelegation(options.AccessDelegation),
        };
    }

    /// <summary>Gets a sandbox by name (<c>GET /boxes/{name}</c>). The instance does not own the sandbox.</summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A handle to the sandbox.</returns>
    /// <exception cref="ResourceNotFoundException">No such sandbox (resource type <c>sandbox</c>).</exception>
    public async Task<SandboxInstance> GetSandboxAsync(string name, CancellationToken cancellationToken = default) =>
        new(this, await GetSandboxInfoAsync(name, cancellationToken).ConfigureAwait(false), ownsSandbox: false);

    /// <summary>Wraps known sandbox data in a handle without any network call. The instance does not own the sandbox.</summary>
    /// <param name="info">The sandbox object, e.g. from <see cref="ListSandboxesAsync"/>.</param>
    /// <returns>A handle to the sandbox.</returns>
    public SandboxInstance GetSandbox(SandboxInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new SandboxInstance(this, info, ownsSandbox: false);
    }

    internal async Task<SandboxInfo> GetSandboxInfoAsync(string name, CancellationToken cancellationToken)
    {
        var path = "/boxes/" + SandboxRuntime.Segment(name, "name");
        var info = await SendControlAsync<SandboxInfo>(HttpMethod.Get, path, null, SandboxNotFound(name), cancellationToken).ConfigureAwait(false);
        return Normalize(info);
    }

    /// <summary>Lists sandboxes (<c>GET /boxes</c>, no query, first page as the server returns it).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The sandboxes.</returns>
    /// <exception cref="SandboxApiException">The endpoint does not exist (404): the configured endpoint is wrong.</exception>
    public async Task<IReadOnlyList<SandboxInfo>> ListSandboxesAsync(CancellationToken cancellationToken = default)
    {
        var list = await SendControlAsync<SandboxList>(HttpMethod.Get, "/boxes", null, EndpointMissing("/boxes"), cancellationToken).ConfigureAwait(false);
        return [.. (list.Sandboxes ?? []).Select(Normalize)];
    }

    /// <summary>
    /// Updates a sandbox (<c>PATCH /boxes/{name}</c>): rename, retention, proxy or run configuration. With no field set the
    /// Python SDK's behaviour is kept: a <c>PATCH</c> with <c>{}</c> (JS 0.12 issues a GET instead).
    /// </summary>
    /// <param name="name">The current name.</param>
    /// <param name="options">The fields to change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The updated sandbox.</returns>
    /// <exception cref="ResourceNameConflictException">The new name is taken (409).</exception>
    /// <exception cref="ResourceNotFoundException">No such sandbox.</exception>
    /// <exception cref="SandboxNotReadyException">A proxy configuration could not be applied now (400 <c>InvalidRequest</c>).</exception>
    public async Task<SandboxInfo> UpdateSandboxAsync(string name, UpdateSandboxOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var request = new UpdateSandboxRequest
        {
            Name = string.IsNullOrEmpty(options.Name) ? null : options.Name,
            IdleTtlSeconds = Retention(options.IdleTtl, "idle_ttl_seconds"),
            DeleteAfterStopSeconds = Retention(options.DeleteAfterStop, "delete_after_stop_seconds"),
            ProxyConfig = options.ProxyConfig,
            RunConfig = options.RunConfig,
            Vcpus = options.Vcpus,
            MemBytes = options.MemBytes,
        };
        var path = "/boxes/" + SandboxRuntime.Segment(name, "name");
        var info = await SendControlAsync<SandboxInfo>(HttpMethod.Patch, path, request, (status, body, message) => status switch
        {
            404 => new ResourceNotFoundException($"Sandbox '{name}' not found", "sandbox"),
            409 => new ResourceNameConflictException($"Sandbox name '{options.Name}' already in use", "sandbox"),
            400 when options.ProxyConfig is not null && body.ErrorType == "InvalidRequest" => new SandboxNotReadyException(message),
            _ => null,
        }, cancellationToken).ConfigureAwait(false);
        return Normalize(info);
    }

    /// <summary>Deletes a sandbox (<c>DELETE /boxes/{name}</c>).</summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the deletion.</returns>
    /// <exception cref="ResourceNotFoundException">No such sandbox.</exception>
    public Task DeleteSandboxAsync(string name, CancellationToken cancellationToken = default) =>
        SendControlAsync(HttpMethod.Delete, "/boxes/" + SandboxRuntime.Segment(name, "name"), null, SandboxNotFound(name), cancellationToken);

    /// <summary>Gets the lightweight status of a sandbox (<c>GET /boxes/{name}/status</c>). A missing status reads as
    /// <c>provisioning</c>.</summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The status.</returns>
    /// <exception cref="ResourceNotFoundException">No such sandbox.</exception>
    public async Task<SandboxStatusInfo> GetSandboxStatusAsync(string name, CancellationToken cancellationToken = default)
    {
        var path = "/boxes/" + SandboxRuntime.Segment(name, "name") + "/status";
        var status = await SendControlAsync<SandboxStatusInfo>(HttpMethod.Get, path, null, SandboxNotFound(name), cancellationToken).ConfigureAwait(false);
        return string.IsNullOrEmpty(status.Status) ? status with { Status = SandboxStatus.Provisioning } : status;
    }

    /// <summary>Starts a stopped (or failed) sandbox (<c>POST /boxes/{name}/start</c> with <c>{}</c>) and waits until it is
    /// ready (default 120 s).</summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="timeout">How long to wait for readiness (default 120 s).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The ready sandbox.</returns>
    /// <exception cref="ResourceNotFoundException">No such sandbox.</exception>
    /// <exception cref="ResourceTimeoutException">Not ready in time.</exception>
    public async Task<SandboxInfo> StartSandboxAsync(string name, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        await SendControlAsync(HttpMethod.Post, "/boxes/" + SandboxRuntime.Segment(name, "name") + "/start", EmptyBody.Instance, SandboxNotFound(name), cancellationToken).ConfigureAwait(false);
        return await WaitForSandboxAsync(name, timeout ?? TimeSpan.FromSeconds(120), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops a sandbox (<c>POST /boxes/{name}/stop</c> with <c>{}</c>); its filesystem is kept.</summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server accepted the stop.</returns>
    /// <exception cref="ResourceNotFoundException">No such sandbox.</exception>
    public Task StopSandboxAsync(string name, CancellationToken cancellationToken = default) =>
        SendControlAsync(HttpMethod.Post, "/boxes/" + SandboxRuntime.Segment(name, "name") + "/stop", EmptyBody.Instance, SandboxNotFound(name), cancellationToken);

    /// <summary>
    /// Polls <c>GET /boxes/{name}/status</c> until <c>ready</c>, then returns <c>GET /boxes/{name}</c> (spec §4.4, Python
    /// rules: at least one poll even with a zero timeout; sleeps <c>min(pollInterval, remaining)</c>).
    /// </summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="timeout">Deadline (default 120 s).</param>
    /// <param name="pollInterval">Pause between polls (default 1 s).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The ready sandbox.</returns>
    /// <exception cref="ResourceCreationException">The sandbox failed (message = its status message).</exception>
    /// <exception cref="ResourceTimeoutException">Not ready in time; carries the last status.</exception>
    public async Task<SandboxInfo> WaitForSandboxAsync(string name, TimeSpan? timeout = null, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        var interval = pollInterval ?? TimeSpan.FromSeconds(1);
        var deadline = _runtime.Time.GetUtcNow() + limit;
        while (true)
        {
            var status = await GetSandboxStatusAsync(name, cancellationToken).ConfigureAwait(false);
            if (status.Status == SandboxStatus.Ready)
            {
                return await GetSandboxInfoAsync(name, cancellationToken).ConfigureAwait(false);
            }

            if (status.Status == SandboxStatus.Failed)
            {
                throw new ResourceCreationException(
                    string.IsNullOrEmpty(status.StatusMessage) ? "Sandbox provisioning failed" : status.StatusMessage, "sandbox");
            }

            var remaining = deadline - _runtime.Time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                throw new ResourceTimeoutException(
                    $"Sandbox '{name}' not ready after {limit.TotalSeconds:0.###}s", "sandbox", status.Status);
            }

            await _runtime.DelayAsync(interval < remaining ? interval : remaining, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"SandboxClient (API URL: {BaseUrl.OriginalString})";

    /// <inheritdoc />
    public void Dispose() => _runtime.Dispose();

    internal static SandboxInfo Normalize(SandboxInfo info) =>
        string.IsNullOrEmpty(info.Status) ? info with { Status = SandboxStatus.Ready } : info;

    internal static int? Retention(TimeSpan? value, string field)
    {
        if (value is not { } span)
        {
            return null;
        }

        var seconds = WholeSeconds(span, field, allowZero: true);
        if (seconds < 0)
        {
            throw new SandboxValidationException($"{field} must be >= 0", field);
        }

        if (seconds != 0 && seconds % 60 != 0)
        {
            throw new SandboxValidationException($"{field} must be a multiple of 60 seconds", field);
        }

        return seconds;
    }

    internal static int WholeSeconds(TimeSpan value, string field, bool allowZero)
    {
        var seconds = value.TotalSeconds;
        if (seconds != Math.Floor(seconds) || seconds > int.MaxValue || seconds < int.MinValue)
        {
            throw new SandboxValidationException($"{field} must be a whole number of seconds", field);
        }

        if (!allowZero && seconds == 0)
        {
            throw new SandboxValidationException($"{field} must be greater than 0", field);
        }

        return (int)seconds;
    }

    internal delegate SandboxException? ErrorOverride(int status, ErrorResponse body, string message);

    internal static ErrorOverride SandboxNotFound(string name) =>
        (status, _, _) => status == 404 ? new ResourceNotFoundException($"Sandbox '{name}' not found", "sandbox") : null;

    private ErrorOverride EndpointMissing(string path) =>
        (status, _, _) => status == 404
            ? new SandboxApiException($"API endpoint not found: {_runtime.ControlUrl(path)}. Check that api_endpoint is correct.")
            : null;

    internal async Task<T> SendControlAsync<T>(HttpMethod method, string path, object? body, ErrorOverride? overrides, CancellationToken cancellationToken, Uri? absolute = null)
    {
        using var response = await SendControlCoreAsync(method, path, body, overrides, cancellationToken, absolute).ConfigureAwait(false);
        return await SandboxRuntime.ReadJsonAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    internal async Task SendControlAsync(HttpMethod method, string path, object? body, ErrorOverride? overrides, CancellationToken cancellationToken, Uri? absolute = null)
    {
        using var response = await SendControlCoreAsync(method, path, body, overrides, cancellationToken, absolute).ConfigureAwait(false);
    }

    private async Task<HttpResponseMessage> SendControlCoreAsync(HttpMethod method, string path, object? body, ErrorOverride? overrides, CancellationToken cancellationToken, Uri? absolute)
    {
        using var request = new HttpRequestMessage(method, absolute ?? _runtime.ControlUrl(path));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: SandboxJson.Options);
        }

        var response = await _runtime.SendAsync(request, null, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var error = await SandboxRuntime.ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            var mapped = overrides?.Invoke(status, error, ErrorMapper.Message(error, status, response.ReasonPhrase));
            if (mapped is not null)
            {
                mapped.SetResponse(status, error.ErrorType, error.ErrorId);
                throw mapped;
            }

            throw ErrorMapper.ControlPlane(status, response.ReasonPhrase, error);
        }
    }

    private sealed class EmptyBody
    {
        public static readonly EmptyBody Instance = new();
    }
}
