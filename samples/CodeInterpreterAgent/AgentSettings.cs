namespace CodeInterpreterAgent;

/// <summary>The sample's settings, from the command line and the environment.</summary>
internal sealed record AgentSettings
{
    /// <summary>Sandbox server to use instead of the embedded one (<c>--endpoint</c> or <c>SANDBOX_ENDPOINT</c>).</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>API key of that server (<c>--api-key</c>, <c>SANDBOX_API_KEY</c>, else <c>LANGSMITH_API_KEY</c>).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Use hosted LangSmith sandboxes (<c>--hosted</c>): endpoint and key from <c>LANGSMITH_ENDPOINT</c>/<c>LANGSMITH_API_KEY</c>.</summary>
    public bool Hosted { get; init; }

    /// <summary>Run the offline script even when a model is configured (<c>--offline</c>).</summary>
    public bool Offline { get; init; }

    /// <summary>Folder for images the tools return (<c>--output</c>).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The first user message in model mode (<c>--prompt</c>).</summary>
    public string? Prompt { get; init; }

    /// <summary>Upper bound on model calls per turn (<c>--max-iterations</c>).</summary>
    public int MaxIterations { get; init; } = 16;

    /// <summary>Keep asking for more user messages after the first turn (<c>--interactive</c>, model mode only).</summary>
    public bool Interactive { get; init; }

    /// <summary>Which framework drives the tools (<c>--framework</c>).</summary>
    public AgentFramework Framework { get; init; } = AgentFramework.Meai;

    /// <summary>Approve calls that need approval (<c>expose_port</c>) without asking (<c>--yes</c>).</summary>
    public bool Yes { get; init; }

    /// <summary>Keep the sandbox (and the web app's URL) until Enter is pressed (<c>--keep-alive</c>).</summary>
    public bool KeepAlive { get; init; }

    public override string ToString() => $"endpoint={Endpoint?.ToString() ?? "(embedded)"} hosted={Hosted} offline={Offline} framework={Framework} output={OutputDirectory}";
}

/// <summary>The framework the sample runs on.</summary>
internal enum AgentFramework
{
    /// <summary>Microsoft.Extensions.AI: <c>ChatClientBuilder(...).UseFunctionInvocation()...</c>.</summary>
    Meai,

    /// <summary>Agent Framework: a <c>ChatClientAgent</c> over the same pipeline, with two sessions.</summary>
    Agents,

    /// <summary>Semantic Kernel: a <c>Kernel</c> with the sandbox plugin, chat through <c>IChatCompletionService</c>.</summary>
    Sk,
}
