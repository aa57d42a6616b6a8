using System.Diagnostics;

namespace Sandbox.AgentTools;

/// <summary>Builds the environment that lets code in the box trace into the caller's run.</summary>
internal static class TracingEnvironment
{
    public static Dictionary<string, string> Build(SandboxTracingOptions options, Activity? current)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!options.Enabled)
        {
            return env;
        }

        if (!string.IsNullOrEmpty(options.Project))
        {
            env["LANGSMITH_PROJECT"] = options.Project;
        }

        if (!string.IsNullOrEmpty(options.Endpoint))
        {
            env["LANGSMITH_ENDPOINT"] = options.Endpoint;
        }

        if (options.LangSmithTracing ?? !string.IsNullOrEmpty(options.Project))
        {
            env["LANGSMITH_TRACING"] = "true";
        }

        if (options.PassApiKeyToSandbox && (options.ApiKey ?? Environment.GetEnvironmentVariable("LANGSMITH_API_KEY")) is { Length: > 0 } key)
        {
            env["LANGSMITH_API_KEY"] = key;
        }

        if (current is not null && current.IdFormat == ActivityIdFormat.W3C)
        {
            env["TRACEPARENT"] = current.Id!;
            if (!string.IsNullOrEmpty(current.TraceStateString))
            {
                env["TRACESTATE"] = current.TraceStateString;
            }
        }

        return env;
    }
}
