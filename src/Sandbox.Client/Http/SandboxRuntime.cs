using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// The shared machinery of one <see cref="SandboxClient"/>: resolved configuration, the HTTP pipeline (retry transport over
/// the injectable handler), header policy, per-request timeouts, JSON and error-body helpers, sleeps and jitter.
/// </summary>
internal sealed class SandboxRuntime : IDisposable
{
    public const string ApiKeyHeader = "X-Api-Key";

    private readonly HttpMessageHandler? _ownedHandler;
    private readonly RetryHandler _retryHandler;

    public SandboxRuntime(SandboxClientOptions options)
    {
        Options = options;
        ApiKey = string.IsNullOrEmpty(options.ApiKey) ? SandboxEnvironment.ApiKey(Environment.GetEnvironmentVariable) : options.ApiKey;
        BaseUrl = SandboxEnvironment.ResolveBaseUrl(
            options.Endpoint,
            options.LangSmithEndpoint ?? SandboxEnvironment.Endpoint(Environment.GetEnvironmentVariable));
        Root = SandboxEnvironment.ResolveRoot(BaseUrl);
        Logger = options.LoggerFactory?.CreateLogger("Sandbox.Client") ?? NullLogger.Instance;

        HttpMessageHandler inner;
        if (options.HttpMessageHandler is { } supplied)
        {
            inner = supplied;
        }
        else
        {
            _ownedHandler = inner = new SocketsHttpHandler
            {
                ConnectTimeout = options.Timeout > TimeSpan.Zero ? options.Timeout : Timeout.InfiniteTimeSpan,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AutomaticDecompression = System.Net.DecompressionMethods.None,
            };
        }

        InnerHandler = inner;
        _retryHandler = new RetryHandler(this, inner);
        Http = new HttpClient(_retryHandler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        PlainHttp = new HttpClient(inner, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        SocketInvoker = new HttpMessageInvoker(inner, disposeHandler: false);
    }

    public SandboxClientOptions Options { get; }

    public string? ApiKey { get; }

    public Uri BaseUrl { get; }

    /// <summary>The API root for the generated-client endpoints (registries).</summary>
    public string Root { get; }

    public ILogger Logger { get; }

    public HttpMessageHandler InnerHandler { get; }

    /// <summary>Client with the retry transport; headers are applied per request.</summary>
    public HttpClient Http { get; }

    /// <summary>Client without retries or credentials (service URLs).</summary>
    public HttpClient PlainHttp { get; }

    /// <summary>Invoker used for WebSocket upgrades (no retry handler).</summary>
    public HttpMessageInvoker SocketInvoker { get; }

    public TimeProvider Time => Options.TimeProvider;

    public double NextRandom() => Options.RandomSource?.Invoke() ?? Random.Shared.NextDouble();

    public Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return Task.CompletedTask;
        }

        return Options.DelayOverride is { } hook ? hook(delay, cancellationToken) : Task.Delay(delay, Time, cancellationToken);
    }

    /// <summary>The headers for a request: <c>X-Api-Key</c> (when a key is configured), then the default headers, which
    /// override case-insensitively (so exactly one instance of each name is sent).</summary>
    public Dictionary<string, string> Headers(bool includeDefaults = true)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrEmpty(ApiKey))
        {
            headers[ApiKeyHeader] = ApiKey;
        }

        if (includeDefaults)
        {
            foreach (var pair in Options.DefaultHeaders)
            {
                headers[pair.Key] = pair.Value;
            }
        }

        return headers;
    }

    public Uri ControlUrl(string relative) => new(BaseUrl.OriginalString + relative);

    public static string Segment(string value, string what)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new SandboxValidationException($"{what} must not be empty", what);
        }

        return Uri.EscapeDataString(value);
    }

    public static HttpContent JsonBody<T>(T value) =>
        new StringContent(JsonSerializer.Serialize(value, SandboxJson.Options), Encoding.UTF8, "application/json");

    /// <summary>Sends a request with the client's headers under a per-request timeout. A timeout surfaces as
    /// <see cref="TimeoutException"/>; the caller's cancellation as <see cref="OperationCanceledException"/>.</summary>
    public async Task<HttpResponseMessage> SendAsync(
        HttpRequestMessage request,
        TimeSpan? timeout,
        CancellationToken cancellationToken,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead,
        IEnumerable<KeyValuePair<string, string>>? extraHeaders = null,
        IReadOnlyDictionary<string, string>? exactHeaders = null)
    {
        foreach (var header in exactHeaders ?? (IEnumerable<KeyValuePair<string, string>>)Headers())
        {
            SetHeader(request, header.Key, header.Value);
        }

        if (extraHeaders is not null)
        {
            foreach (var header in extraHeaders)
            {
                SetHeader(request, header.Key, header.Value);
            }
        }

        var limit = timeout ?? Options.Timeout;
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (limit > TimeSpan.Zero)
        {
            timeoutCts.CancelAfter(limit);
        }

        try
        {
            return await Http.SendAsync(request, completion, timeoutCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested)
        {
            // Surface the caller's token, not the linked one.
            throw new OperationCanceledException(ex.Message, ex, cancellationToken);
        }
        catch (OperationCanceledException ex) when (timeoutCts.IsCancellationRequested)
        {
            throw new TimeoutException($"{request.Method} {Redact(request.RequestUri)} did not complete within {limit.TotalSeconds:0.###}s", ex);
        }
    }

    /// <summary>Header order of the 0.12 file operations (delta §2.2): per-call headers, then <paramref name="overrides"/>
    /// (Range, If-Range, If-None-Match), then the configured <c>X-Api-Key</c>, then default headers only where the name is
    /// not present yet.</summary>
    public Dictionary<string, string> FileOperationHeaders(IReadOnlyDictionary<string, string>? perCall, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in perCall ?? new Dictionary<string, string>())
        {
            headers[pair.Key] = pair.Value;
        }

        foreach (var pair in overrides ?? new Dictionary<string, string>())
        {
            headers[pair.Key] = pair.Value;
        }

        if (!string.IsNullOrEmpty(ApiKey))
        {
            headers[ApiKeyHeader] = ApiKey;
        }

        foreach (var pair in Options.DefaultHeaders)
        {
            headers.TryAdd(pair.Key, pair.Value);
        }

        return headers;
    }

    private static void SetHeader(HttpRequestMessage request, string name, string value)
    {
        if (IsContentHeader(name))
        {
            // Content-Type and friends belong to the body (a per-call header may replace the JSON content type).
            if (request.Content is { } content)
            {
                content.Headers.Remove(name);
                content.Headers.TryAddWithoutValidation(name, value);
            }

            return;
        }

        request.Headers.Remove(name);
        request.Headers.TryAddWithoutValidation(name, value);
    }

    private static bool IsContentHeader(string name) =>
        name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Expires", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Last-Modified", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Allow", StringComparison.OrdinalIgnoreCase);

    public static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new SandboxException($"Empty response body from {Redact(response.RequestMessage?.RequestUri)}") { StatusCode = (int)response.StatusCode };
        }

        try
        {
            return JsonSerializer.Deserialize<T>(text, SandboxJson.Options)
                ?? throw new SandboxException($"Unexpected null response from {Redact(response.RequestMessage?.RequestUri)}");
        }
        catch (JsonException ex)
        {
            throw new SandboxException($"Malformed JSON response from {Redact(response.RequestMessage?.RequestUri)}: {ex.Message}", ex)
            {
                StatusCode = (int)response.StatusCode,
            };
        }
    }

    public static async Task<ErrorResponse> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return ErrorResponse.Parse(text);
        }
        catch (HttpRequestException)
        {
            return ErrorResponse.Empty;
        }
    }

    public static string Redact(Uri? uri) => uri is null ? "(unknown)" : uri.GetLeftPart(UriPartial.Path);

    public static MediaTypeHeaderValue OctetStream => new("application/octet-stream");

    public void Dispose()
    {
        Http.Dispose();
        PlainHttp.Dispose();
        SocketInvoker.Dispose();
        if (_ownedHandler is not null)
        {
            _retryHandler.Dispose();
            _ownedHandler.Dispose();
        }
    }
}
