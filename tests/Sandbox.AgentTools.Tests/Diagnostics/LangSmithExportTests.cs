using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Sandbox.AgentTools.Tests;

public sealed class LangSmithExportTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(Dictionary<string, string> Headers, string Path, string ContentType, byte[] Body)> _requests = new();
    private WebApplication _receiver = null!;
    private string _endpoint = null!;

    public async Task InitializeAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _receiver = builder.Build();
        _receiver.MapPost("/otel/v1/traces", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            // Kestrel reuses header collections after the request: copy them.
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            _requests.Enqueue((headers, context.Request.Path, context.Request.ContentType ?? "", body.ToArray()));
            context.Response.ContentType = "application/x-protobuf";
            return Results.Bytes([], "application/x-protobuf");
        });
        await _receiver.StartAsync();
        _endpoint = _receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task ToolSpans_AreExportedToLangSmith_WithGenAiAttributes()
    {
        using var parentSource = new ActivitySource("Test.Agent");
        using (TracerProvider provider = Sdk.CreateTracerProviderBuilder()
            .AddSource("Test.Agent")
            .AddLangSmithExporter(o =>
            {
                o.Endpoint = _endpoint;
                o.ApiKey = "lsv2-test-key";
                o.Project = "sandbox tools, test";
                o.UseSimpleProcessor = true;
            })
            .Build()!)
        {
            using var provisioner = new FakeProvisioner();
            await using var pool = new SandboxLeasePool(provisioner, new SandboxPoolOptions { MinIdle = 0 }, TimeProvider.System, NullLogger.Instance);
            AIFunction runCode = SandboxTools.Create(pool, "conv-otel", new SandboxToolOptions { CaptureContent = true })
                .Cast<AIFunction>().Single(t => t.Name == "run_code");
            using (Activity? agent = parentSource.StartActivity("invoke_agent"))
            {
                var arguments = new AIFunctionArguments(new Dictionary<string, object?> { ["code"] = "print(1)", ["language"] = "fortran" })
                {
                    Context = new Dictionary<object, object?> { [SandboxTools.ToolCallIdKey] = "call_123" },
                };
                var result = (JsonElement)(await runCode.InvokeAsync(arguments))!;
                Assert.Equal("invalid_argument", result.GetProperty("error_type").GetString());
                await using (await pool.RentAsync("conv-otel"))
                {
                }
            }

            Assert.True(provider.ForceFlush(10_000));
        }

        Assert.NotEmpty(_requests);
        List<OtlpSpan> spans = [];
        foreach ((Dictionary<string, string> headers, string path, string contentType, byte[] body) in _requests)
        {
            Assert.Equal("/otel/v1/traces", path);
            Assert.Equal("application/x-protobuf", contentType);
            Assert.Equal("lsv2-test-key", headers["x-api-key"]);
            Assert.Equal("sandbox tools, test", headers["Langsmith-Project"]);
            spans.AddRange(OtlpSpan.Decode(body));
        }

        // Other tests may run tools at the same time: look only at this test's trace.
        OtlpSpan agentSpan = Assert.Single(spans, s => s.Name == "invoke_agent");
        spans = spans.Where(s => s.TraceId == agentSpan.TraceId).ToList();
        OtlpSpan tool = Assert.Single(spans, s => s.Name == "execute_tool run_code");
        Assert.Equal("Sandbox.AgentTools", tool.Scope);
        Assert.Equal("execute_tool", tool.Attributes["gen_ai.operation.name"]);
        Assert.Equal("run_code", tool.Attributes["gen_ai.tool.name"]);
        Assert.Equal("function", tool.Attributes["gen_ai.tool.type"]);
        Assert.Equal("call_123", tool.Attributes["gen_ai.tool.call.id"]);
        Assert.Equal("tool", tool.Attributes["langsmith.span.kind"]);
        Assert.Contains("fortran", (string)tool.Attributes["gen_ai.tool.call.arguments"], StringComparison.Ordinal);
        Assert.Contains("invalid_argument", (string)tool.Attributes["gen_ai.tool.call.result"], StringComparison.Ordinal);
        Assert.Equal(2, tool.StatusCode); // STATUS_CODE_ERROR: the call failed

        Assert.Equal(agentSpan.SpanId, tool.ParentSpanId);
        Assert.Equal(agentSpan.TraceId, tool.TraceId);
        OtlpSpan acquire = Assert.Single(spans, s => s.Name == "sandbox.lease.acquire");
        OtlpSpan create = Assert.Single(spans, s => s.Name == "sandbox.create");
        Assert.Equal(acquire.SpanId, create.ParentSpanId);
        Assert.Equal("fake-1", create.Attributes["sandbox.name"]);
    }

    [Fact]
    public void AddLangSmithExporter_WithoutApiKey_SaysWhatToSet()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Sdk.CreateTracerProviderBuilder().AddLangSmithExporter(o => o.ApiKey = null));
        Assert.Contains("LANGSMITH_API_KEY", error.Message, StringComparison.Ordinal);
    }
}
