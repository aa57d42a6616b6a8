namespace Sandbox.Client;

/// <summary>Settings of a <see cref="SandboxTokenVerifier"/> (delta §7.2).</summary>
public sealed record SandboxTokenVerifierOptions
{
    /// <summary>The LangSmith API URL; only its origin is used to locate the key set. Null: <c>LANGSMITH_ENDPOINT</c>,
    /// then <c>https://api.smith.langchain.com</c>.</summary>
    public Uri? ApiUrl { get; init; }

    /// <summary>The key-set (JWKS) URL. Null: <c>&lt;origin of ApiUrl&gt;/.well-known/jwks.json</c>.</summary>
    public Uri? JwksUrl { get; init; }

    /// <summary>Allows a plain-http key-set URL to a non-loopback host. Off by default: the keys decide which tokens are
    /// trusted, so fetching them over plain http lets anyone on the path mint accepted tokens.</summary>
    public bool AllowInsecureJwks { get; init; }

    /// <summary>Timeout of one key-set fetch. Default 10 s.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The handler used to fetch the key set (tests, proxies). Null: a new <see cref="HttpClientHandler"/>.
    /// The verifier does not dispose a handler it was given.</summary>
    public HttpMessageHandler? HttpMessageHandler { get; init; }

    /// <summary>The clock for claim checks and cache ages. Null: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider? TimeProvider { get; init; }
}
