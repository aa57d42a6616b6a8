using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// A token URL for an HTTP service inside a sandbox (spec §8.7). The async accessors re-mint the token (same port,
/// lifetime and origins) when it expires within 30 s — the Python SDK's rule (JS 0.12 uses 60 s).
/// </summary>
/// <remarks>
/// Thread-safe; concurrent accessors share one refresh. <see cref="SendAsync"/> authenticates with the
/// <c>X-Langsmith-Sandbox-Service-Token</c> header only: the API key and the client's default headers are never sent to
/// the service. The token is a credential: do not log it.
/// </remarks>
public sealed class ServiceUrl
{
    /// <summary>The header carrying the service token.</summary>
    public const string TokenHeader = "X-Langsmith-Sandbox-Service-Token";

    internal static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(30);

    private readonly SandboxClient _client;
    private readonly string _sandboxName;
    private readonly ServiceUrlRequest _request;
    private readonly SemaphoreSlim _refreshLock = new(1, 1);
    private ServiceUrlInfo _info = new();

    internal ServiceUrl(SandboxClient client, string sandboxName, ServiceUrlRequest request)
    {
        _client = client;
        _sandboxName = sandboxName;
        _request = request;
    }

    /// <summary>The port inside the sandbox.</summary>
    public int Port => _request.Port;

    /// <summary>When the current token expires (null if the server sent no parseable time). Does not refresh.</summary>
    public DateTimeOffset? ExpiresAt => ParseExpiry(_info.ExpiresAt);

    /// <summary>The iframe URL (token in the fragment), when the server returned one. Does not refresh.</summary>
    public string? EmbedUrl => _info.EmbedUrl;

    /// <summary>Gets the token, refreshing it first when it expires within 30 s.</summary>
    /// <param name="cancellationToken">Cancels a refresh.</param>
    /// <returns>The token.</returns>
    public async Task<string> GetTokenAsync(CancellationToken cancellationToken = default) =>
        (await CurrentAsync(cancellationToken).ConfigureAwait(false)).Token ?? "";

    /// <summary>Gets the base URL of the service (used with the token header), refreshing first when needed.</summary>
    /// <param name="cancellationToken">Cancels a refresh.</param>
    /// <returns>The service URL.</returns>
    public async Task<string> GetServiceUrlAsync(CancellationToken cancellationToken = default) =>
        (await CurrentAsync(cancellationToken).ConfigureAwait(false)).ServiceUrl ?? "";

    /// <summary>Gets the browser URL (authenticates via redirect and a cookie), refreshing first when needed.</summary>
    /// <param name="cancellationToken">Cancels a refresh.</param>
    /// <returns>The browser URL.</returns>
    public async Task<string> GetBrowserUrlAsync(CancellationToken cancellationToken = default) =>
        (await CurrentAsync(cancellationToken).ConfigureAwait(false)).BrowserUrl ?? "";

    /// <summary>Gets the expiry, refreshing first when needed.</summary>
    /// <param name="cancellationToken">Cancels a refresh.</param>
    /// <returns>The expiry, or null when unknown.</returns>
    public async Task<DateTimeOffset?> GetExpiresAtAsync(CancellationToken cancellationToken = default) =>
        ParseExpiry((await CurrentAsync(cancellationToken).ConfigureAwait(false)).ExpiresAt);

    /// <summary>
    /// Sends a request to the service. A relative <see cref="HttpRequestMessage.RequestUri"/> (or none) is joined to the
    /// service URL with exactly one <c>/</c>; the token header is added; no API key is sent and nothing is retried.
    /// </summary>
    /// <param name="request">The request; its method, body and headers pass through.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The service's response (any status).</returns>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var info = await CurrentAsync(cancellationToken).ConfigureAwait(false);
        if (request.RequestUri is null || !request.RequestUri.IsAbsoluteUri)
        {
            request.RequestUri = new Uri(Join(info.ServiceUrl ?? "", request.RequestUri?.OriginalString ?? "/"));
        }

        request.Headers.Remove(TokenHeader);
        request.Headers.TryAddWithoutValidation(TokenHeader, info.Token ?? "");
        return await _client.Runtime.PlainHttp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <c>GET</c> to a path of the service (Py <c>svc.get</c>). See <see cref="SendJsonAsync"/>.</summary>
    /// <param name="path">Path (and query) relative to the service URL, e.g. <c>/api/items?limit=5</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The service's response (any status); dispose it.</returns>
    public Task<HttpResponseMessage> GetAsync(string path = "/", CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Get, path, null, null, cancellationToken);

    /// <summary>Sends <c>POST</c> with an optional JSON body (Py <c>svc.post</c>). See <see cref="SendJsonAsync"/>.</summary>
    /// <param name="path">Path relative to the service URL.</param>
    /// <param name="json">The body, serialized as JSON (an <see cref="HttpContent"/> is sent as is); null = no body.</param>
    /// <param name="jsonOptions">Serializer options (default: <see cref="JsonSerializerOptions.Web"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The service's response (any status); dispose it.</returns>
    public Task<HttpResponseMessage> PostAsync(string path, object? json = null, JsonSerializerOptions? jsonOptions = null, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Post, path, json, jsonOptions, cancellationToken);

    /// <summary>Sends <c>PUT</c> with an optional JSON body (Py <c>svc.put</c>). See <see cref="SendJsonAsync"/>.</summary>
    /// <param name="path">Path relative to the service URL.</param>
    /// <param name="json">The body, serialized as JSON (an <see cref="HttpContent"/> is sent as is); null = no body.</param>
    /// <param name="jsonOptions">Serializer options (default: <see cref="JsonSerializerOptions.Web"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The service's response (any status); dispose it.</returns>
    public Task<HttpResponseMessage> PutAsync(string path, object? json = null, JsonSerializerOptions? jsonOptions = null, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Put, path, json, jsonOptions, cancellationToken);

    /// <summary>Sends <c>PATCH</c> with an optional JSON body (Py <c>svc.patch</c>). See <see cref="SendJsonAsync"/>.</summary>
    /// <param name="path">Path relative to the service URL.</param>
    /// <param name="json">The body, serialized as JSON (an <see cref="HttpContent"/> is sent as is); null = no body.</param>
    /// <param name="jsonOptions">Serializer options (default: <see cref="JsonSerializerOptions.Web"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The service's response (any status); dispose it.</returns>
    public Task<HttpResponseMessage> PatchAsync(string path, object? json = null, JsonSerializerOptions? jsonOptions = null, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Patch, path, json, jsonOptions, cancellationToken);

    /// <summary>Sends <c>DELETE</c> to a path of the service (Py <c>svc.delete</c>). See <see cref="SendJsonAsync"/>.</summary>
    /// <param name="path">Path relative to the service URL.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The service's response (any status); dispose it.</returns>
    public Task<HttpResponseMessage> DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        SendJsonAsync(HttpMethod.Delete, path, null, null, cancellationToken);

    /// <summary>
    /// Sends a request with an optional JSON body to a path of the service: the token is refreshed first when it expires
    /// within 30 s and sent in <see cref="TokenHeader"/>; when the service answers 401 (a token that expired or was
    /// revoked early) a new token is minted and the request is sent once more. No API key is sent.
    /// </summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="path">Path (and query) relative to the service URL; an absolute URL is used as is.</param>
    /// <param name="json">The body, serialized as JSON (an <see cref="HttpContent"/> is sent as is, and then not re-sent
    /// after a 401); null = no body.</param>
    /// <param name="jsonOptions">Serializer options (default: <see cref="JsonSerializerOptions.Web"/>).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The service's response (any status); dispose it.</returns>
    public async Task<HttpResponseMessage> SendJsonAsync(HttpMethod method, string path, object? json, JsonSerializerOptions? jsonOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        var response = await SendAsync(Build(), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || json is HttpContent)
        {
            return response;
        }

        response.Dispose();
        await _refreshLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _refreshLock.Release();
        }

        return await SendAsync(Build(), cancellationToken).ConfigureAwait(false);

        HttpRequestMessage Build() => new(method, path.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? new Uri(path, UriKind.Absolute)
            : new Uri(path, UriKind.Relative))
        {
            Content = json switch
            {
                null => null,
                HttpContent content => content,
                _ => JsonContent.Create(json, json.GetType(), options: jsonOptions ?? JsonSerializerOptions.Web),
            },
        };
    }

    /// <summary>Joins the service URL and a path with exactly one slash (delta §4.5.4).</summary>
    internal static string Join(string serviceUrl, string path) => serviceUrl.TrimEnd('/') + "/" + path.TrimStart('/');

    internal void SetInitial(ServiceUrlInfo info) => _info = info;

    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        Log.ServiceUrlRefresh(_client.Runtime.Logger, _sandboxName, _request.Port);
        _info = await _client.RequestServiceUrlAsync(_sandboxName, _request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ServiceUrlInfo> CurrentAsync(CancellationToken cancellationToken)
    {
        if (!NeedsRefresh())
        {
            return _info;
        }

        await _refreshLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (NeedsRefresh())
            {
                await RefreshAsync(cancellationToken).ConfigureAwait(false);
            }

            return _info;
        }
        finally
        {
            _refreshLock.Release();
        }
    }

    private bool NeedsRefresh() =>
        ParseExpiry(_info.ExpiresAt) is { } expiry && expiry - _client.Runtime.Time.GetUtcNow() <= RefreshMargin;

    /// <summary>ISO 8601; a trailing <c>Z</c> is accepted and a time without zone is UTC (spec §8.7).</summary>
    internal static DateTimeOffset? ParseExpiry(string? value) =>
        !string.IsNullOrWhiteSpace(value) && DateTimeOffset.TryParse(
            value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed
            : null;
}
