using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace CodeInterpreterAgent.Agent;

/// <summary>The sample's spans (the agent run and each model call); the tools add their own <c>execute_tool</c> spans.</summary>
internal static class AgentTelemetry
{
    public static readonly ActivitySource Source = new("CodeInterpreterAgent");

    /// <summary>Exports spans to LangSmith over OTLP when <c>LANGSMITH_API_KEY</c> is set; null otherwise.</summary>
    public static TracerProvider? StartExport(Func<string, string?> env) =>
        string.IsNullOrEmpty(env("LANGSMITH_API_KEY"))
            ? null
            : Sdk.CreateTracerProviderBuilder()
                .AddSource(Source.Name)
                .AddLangSmithExporter(o =>
                {
                    o.ApiKey = env("LANGSMITH_API_KEY");
                    o.Endpoint = env("LANGSMITH_ENDPOINT") is { Length: > 0 } endpoint ? endpoint : null;
                    o.Project = env("LANGSMITH_PROJECT") is { Length: > 0 } project ? project : null;
                })
                .Build();
}
