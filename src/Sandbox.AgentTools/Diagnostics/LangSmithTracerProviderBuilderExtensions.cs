using OpenTelemetry.Exporter;
using Sandbox.AgentTools;

namespace OpenTelemetry.Trace;

/// <summary>One-call setup of the OTLP exporter for LangSmith.</summary>
public static class LangSmithTracerProviderBuilderExtensions
{
    /// <summary>
    /// Exports spans to LangSmith over OTLP http/protobuf: <c>{LANGSMITH_ENDPOINT}/otel/v1/traces</c> with the headers
    /// <c>x-api-key</c> and <c>Langsmith-Project</c>, and subscribes to the <c>Sandbox.AgentTools</c> activity source.
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <param name="configure">Adjusts endpoint, key, project (defaults come from the <c>LANGSMITH_*</c> environment variables).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">No API key is configured.</exception>
    public static TracerProviderBuilder AddLangSmithExporter(this TracerProviderBuilder builder, Action<LangSmithExporterOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new LangSmithExporterOptions();
        configure?.Invoke(options);
        if (string.IsNullOrEmpty(options.ApiKey))
        {
            throw new InvalidOperationException("LangSmith export needs an API key: set LANGSMITH_API_KEY or LangSmithExporterOptions.ApiKey.");
        }

        if (options.AddSandboxToolsSource)
        {
            builder.AddSource(SandboxToolsDiagnostics.Name);
        }

        Uri endpoint = options.GetTracesEndpoint();
        string apiKey = options.ApiKey;
        string? project = options.Project;
        TimeSpan timeout = options.Timeout;
        return builder.AddOtlpExporter("langsmith", otlp =>
        {
            otlp.Endpoint = endpoint;
            otlp.Protocol = OtlpExportProtocol.HttpProtobuf;
            otlp.TimeoutMilliseconds = (int)timeout.TotalMilliseconds;
            otlp.ExportProcessorType = options.UseSimpleProcessor ? ExportProcessorType.Simple : ExportProcessorType.Batch;
            // Headers go on the HttpClient rather than through OtlpExporterOptions.Headers, whose comma/equals syntax
            // cannot carry every project name.
            otlp.HttpClientFactory = () =>
            {
                var client = new HttpClient { Timeout = timeout };
                client.DefaultRequestHeaders.TryAddWithoutValidation("x-api-key", apiKey);
                if (!string.IsNullOrEmpty(project))
                {
                    client.DefaultRequestHeaders.TryAddWithoutValidation("Langsmith-Project", project);
                }

                return client;
            };
        });
    }
}
