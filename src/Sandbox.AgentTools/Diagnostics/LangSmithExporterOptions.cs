namespace Sandbox.AgentTools;

/// <summary>Where and how spans are exported to LangSmith's OpenTelemetry endpoint.</summary>
public sealed class LangSmithExporterOptions
{
    /// <summary>The default LangSmith endpoint.</summary>
    public const string DefaultEndpoint = "https://api.smith.langchain.com";

    /// <summary>LangSmith base URL (default: <c>LANGSMITH_ENDPOINT</c>, else <see cref="DefaultEndpoint"/>). Spans go to <c>{Endpoint}/otel/v1/traces</c>.</summary>
    public string? Endpoint { get; set; } = Environment.GetEnvironmentVariable("LANGSMITH_ENDPOINT");

    /// <summary>API key sent as <c>x-api-key</c> (default: <c>LANGSMITH_API_KEY</c>). Never logged.</summary>
    public string? ApiKey { get; set; } = Environment.GetEnvironmentVariable("LANGSMITH_API_KEY");

    /// <summary>Project sent as <c>Langsmith-Project</c> (default: <c>LANGSMITH_PROJECT</c>; omitted when empty).</summary>
    public string? Project { get; set; } = Environment.GetEnvironmentVariable("LANGSMITH_PROJECT");

    /// <summary>Export timeout (default 10 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Also subscribe to this library's activity source (default true).</summary>
    public bool AddSandboxToolsSource { get; set; } = true;

    /// <summary>Use a simple (synchronous per span) processor instead of a batching one (default false; handy in tests and short CLIs).</summary>
    public bool UseSimpleProcessor { get; set; }

    /// <summary>The full traces URL.</summary>
    public Uri GetTracesEndpoint()
    {
        string baseUrl = string.IsNullOrWhiteSpace(Endpoint) ? DefaultEndpoint : Endpoint;
        return new Uri(baseUrl.TrimEnd('/') + "/otel/v1/traces", UriKind.Absolute);
    }
}
