using System.Diagnostics;

namespace Sandbox.AgentTools.Tests;

public sealed class TracingEnvironmentTests
{
    [Fact]
    public void Build_PassesProjectEndpointAndTraceContext_ButNotTheApiKeyByDefault()
    {
        using var activity = new Activity("tool").SetIdFormat(ActivityIdFormat.W3C);
        activity.TraceStateString = "vendor=1";
        activity.Start();
        var options = new SandboxTracingOptions { Project = "p", Endpoint = "http://127.0.0.1:1", ApiKey = "lsv2-secret" };

        Dictionary<string, string> env = TracingEnvironment.Build(options, activity);

        Assert.Equal("p", env["LANGSMITH_PROJECT"]);
        Assert.Equal("http://127.0.0.1:1", env["LANGSMITH_ENDPOINT"]);
        Assert.Equal("true", env["LANGSMITH_TRACING"]);
        Assert.Equal(activity.Id, env["TRACEPARENT"]);
        Assert.Equal("vendor=1", env["TRACESTATE"]);
        Assert.DoesNotContain("LANGSMITH_API_KEY", env.Keys);
    }

    [Fact]
    public void Build_PassesTheApiKey_OnlyWhenOptedIn()
    {
        var options = new SandboxTracingOptions { ApiKey = "lsv2-secret", PassApiKeyToSandbox = true };
        Assert.Equal("lsv2-secret", TracingEnvironment.Build(options, null)["LANGSMITH_API_KEY"]);
        Assert.Empty(TracingEnvironment.Build(new SandboxTracingOptions { Enabled = false, ApiKey = "k", PassApiKeyToSandbox = true, Project = "p" }, null));
    }
}
