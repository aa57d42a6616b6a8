using Microsoft.Extensions.Logging;

namespace Sandbox.Client;

/// <summary>
/// Settings of a <see cref="SandboxClient"/>. Bindable from configuration; <see cref="FromEnvironment"/> reads the
/// <c>LANGSMITH_*</c> / <c>LANGCHAIN_*</c> variables of spec §2.1.
/// </summary>
/// <remarks>
/// Values left null fall back to the environment when the client is constructed: <see cref="ApiKey"/> to
/// <c>LANGSMITH_API_KEY</c> then <c>LANGCHAIN_API_KEY</c>; the endpoint to <see cref="LangSmithEndpoint"/>, then
/// <c>LANGSMITH_ENDPOINT</c> / <c>LANGCHAIN_ENDPOINT</c>, then <c>https://api.smith.langchain.com</c>.
/// A <see cref="TimeSpan"/> timeout of zero or less disables that timeout (as a value <c>&lt;= 0</c> does in the SDKs).
/// </remarks>
public sealed class SandboxClientOptions
{
    /// <summary>The LangSmith API root used when no environment variable names one.</summary>
    public const string DefaultLangSmithEndpoint = "https://api.smith.langchain.com";

    /// <summary>
    /// The full sandbox control-plane base (e.g. <c>http://127.0.0.1:5000/v2/sandboxes</c>), used verbatim except that
    /// one trailing <c>/</c> is removed (spec §2.2 step 1). When null, the base is derived from
    /// <see cref="LangSmithEndpoint"/> as <c>&lt;origin&gt;/api/v2/sandboxes</c> (delta §2.1).
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// The LangSmith API root (e.g. <c>https://eu.api.smith.langchain.com</c>), used only when <see cref="Endpoint"/> is
    /// null. A trailing <c>/api/v1</c> or <c>/api</c> is stripped before <c>/api/v2/sandboxes</c> is appended.
    /// </summary>
    public string? LangSmithEndpoint { get; set; }

    /// <summary>The API key sent as <c>X-Api-Key</c>. Null or empty falls back to the environment; when no key is
    /// found the header is omitted.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Headers added to every HTTP request and to the <c>/execute/ws</c> upgrade (not to <c>/tunnel</c>, like the
    /// Python SDK). Names are case-insensitive; a default header named <c>X-Api-Key</c> overrides the configured key.
    /// </summary>
    public IDictionary<string, string> DefaultHeaders { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Default timeout of a control-plane call (10 s, like the Python SDK).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Number of retries of the HTTP transport (spec §4.1); total attempts = <c>MaxRetries + 1</c>. 0 disables.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>An HTTP handler to send every request (and the WebSocket upgrades) through, e.g. for proxies or tests.
    /// The client does not dispose it.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>WebSocket opening-handshake timeout (<c>LANGSMITH_SANDBOX_WS_TIMEOUT_OPEN</c>, default 30 s).</summary>
    public TimeSpan WebSocketOpenTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Upper bound of the whole connect phase of a command start including retries
    /// (<c>LANGSMITH_SANDBOX_WS_TIMEOUT_CONNECT_BUDGET</c>, default 120 s).</summary>
    public TimeSpan ConnectBudget { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Interval of WebSocket keepalive pings on <c>/execute/ws</c>
    /// (<c>LANGSMITH_SANDBOX_WS_TIMEOUT_PING_INTERVAL</c>, default 30 s).</summary>
    public TimeSpan WebSocketPingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for a pong before failing the connection (<c>LANGSMITH_SANDBOX_WS_TIMEOUT_PING</c>,
    /// default 60 s).</summary>
    public TimeSpan WebSocketPingTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Closing-handshake timeout (<c>LANGSMITH_SANDBOX_WS_TIMEOUT_CLOSE</c>, default 10 s).</summary>
    public TimeSpan WebSocketCloseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock and timer source used for backoff sleeps, polling, connect budgets and token expiry.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Optional logger factory; retries and re-attaches are logged at Debug level. Secrets are never logged.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Test hook: source of <c>U[0,1)</c> used for jitter. Null = <see cref="Random.Shared"/>.</summary>
    internal Func<double>? RandomSource { get; set; }

    /// <summary>Test hook: replaces every backoff/poll sleep. Null = <c>Task.Delay</c> on <see cref="TimeProvider"/>.</summary>
    internal Func<TimeSpan, CancellationToken, Task>? DelayOverride { get; set; }

    /// <summary>
    /// Creates options from the environment: API key, LangSmith endpoint and the WebSocket timeout variables
    /// (<c>LANGSMITH_SANDBOX_WS_TIMEOUT_*</c>, then <c>LANGCHAIN_SANDBOX_WS_TIMEOUT_*</c>; seconds as a float;
    /// an unparseable value keeps the default).
    /// </summary>
    /// <returns>The options.</returns>
    public static SandboxClientOptions FromEnvironment() => FromEnvironmentCore(Environment.GetEnvironmentVariable);

    internal static SandboxClientOptions FromEnvironmentCore(Func<string, string?> env)
    {
        var options = new SandboxClientOptions
        {
            ApiKey = SandboxEnvironment.ApiKey(env),
            LangSmithEndpoint = SandboxEnvironment.Endpoint(env),
        };
        options.WebSocketOpenTimeout = SandboxEnvironment.Seconds(env, "SANDBOX_WS_TIMEOUT_OPEN") ?? options.WebSocketOpenTimeout;
        options.ConnectBudget = SandboxEnvironment.Seconds(env, "SANDBOX_WS_TIMEOUT_CONNECT_BUDGET") ?? options.ConnectBudget;
        options.WebSocketPingInterval = SandboxEnvironment.Seconds(env, "SANDBOX_WS_TIMEOUT_PING_INTERVAL") ?? options.WebSocketPingInterval;
        options.WebSocketPingTimeout = SandboxEnvironment.Seconds(env, "SANDBOX_WS_TIMEOUT_PING") ?? options.WebSocketPingTimeout;
        options.WebSocketCloseTimeout = SandboxEnvironment.Seconds(env, "SANDBOX_WS_TIMEOUT_CLOSE") ?? options.WebSocketCloseTimeout;
        return options;
    }

    internal SandboxClientOptions Clone()
    {
        var copy = new SandboxClientOptions
        {
            Endpoint = Endpoint,
            LangSmithEndpoint = LangSmithEndpoint,
            ApiKey = ApiKey,
            Timeout = Timeout,
            MaxRetries = MaxRetries,
            HttpMessageHandler = HttpMessageHandler,
            WebSocketOpenTimeout = WebSocketOpenTimeout,
            ConnectBudget = ConnectBudget,
            WebSocketPingInterval = WebSocketPingInterval,
            WebSocketPingTimeout = WebSocketPingTimeout,
            WebSocketCloseTimeout = WebSocketCloseTimeout,
            TimeProvider = TimeProvider,
            LoggerFactory = LoggerFactory,
            RandomSource = RandomSource,
            DelayOverride = DelayOverride,
        };
        foreach (var header in DefaultHeaders)
        {
            copy.DefaultHeaders[header.Key] = header.Value;
        }

        return copy;
    }
}
