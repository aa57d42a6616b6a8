namespace Sandbox.AgentTools;

/// <summary>
/// The tracing environment every <c>run_code</c> call gets: <c>LANGSMITH_*</c> as configured and the W3C
/// <c>TRACEPARENT</c>/<c>TRACESTATE</c> of the current span, so code in the box can trace into the same run.
/// </summary>
public sealed class SandboxTracingOptions
{
    /// <summary>Pass tracing variables into the box at all (default true). <c>TRACEPARENT</c> is only set when a span is current.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>LangSmith project (<c>LANGSMITH_PROJECT</c>); default: the host's <c>LANGSMITH_PROJECT</c> environment variable.</summary>
    public string? Project { get; set; } = Environment.GetEnvironmentVariable("LANGSMITH_PROJECT");

    /// <summary>LangSmith endpoint (<c>LANGSMITH_ENDPOINT</c>); default: the host's <c>LANGSMITH_ENDPOINT</c> environment variable.</summary>
    public string? Endpoint { get; set; } = Environment.GetEnvironmentVariable("LANGSMITH_ENDPOINT");

    /// <summary>Set <c>LANGSMITH_TRACING=true</c> in the box (default true when a project is configured).</summary>
    public bool? LangSmithTracing { get; set; }

    /// <summary>
    /// Copy the API key into the box as <c>LANGSMITH_API_KEY</c> (default false). Code in the box can read it; only opt in
    /// for trusted code. The key is never logged nor put on spans or tool results.
    /// </summary>
    public bool PassApiKeyToSandbox { get; set; }

    /// <summary>The API key to pass when <see cref="PassApiKeyToSandbox"/> is set; default: the host's <c>LANGSMITH_API_KEY</c>.</summary>
    public string? ApiKey { get; set; }
}
