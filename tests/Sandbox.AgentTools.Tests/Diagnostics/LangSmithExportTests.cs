using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Sandbox.Tests.Common;

namespace Sandbox.AgentTools.Tests;

/// <summary>
/// The LangSmith exporter on the wire (OTLP/HTTP protobuf to a loopback receiver: path, content type, API key and
/// project headers, span names in the body) and, through an in-memory exporter on the same provider, the spans it exports.
/// </summary>
public sealed class LangSmithExportTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(Dictionary<string, string> Headers, string Path, string ContentType, byte[] Body)> _requests = new();
    private KestrelTestHost _receiver = null!;

    public async ValueTask InitializeAsync() => _receiver = await KestrelTestHost.StartAsync(app => app.MapPost("/otel/v1/traces", async (HttpContext context) =>
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        // Kestrel reuses header collections after the request: copy them.
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        _requests.Enqueue((headers, context.Request.Path, context.Request.ContentType ?? "", body.ToArray()));
        return Results.Bytes([], "application/x-protobuf");
    }));

    public async ValueTask DisposeAsync() => await _receiver.DisposeAsync();

    [Fact]
    public async Task ToolSpans_AreExportedToLangSmith_WithGenAiAttributes()
    {
        using var parentSource = new ActivitySource("Test.Agent");
        var exported = new List<Activity>();
        using (TracerProvider provider = Sdk.CreateTracerProviderBuilder()
            .AddSource("Test.Agent")
            .AddLangSmithExporter(o =>
            {
                o.Endpoint = _receiver.Url;
                o.ApiKey = "lsv2-test-key";
                o.Project = "sandbox tools, test";
                o.UseSimpleProcessor = true;
            })
            .AddInMemoryExporter(exported)
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

        // On the wire: OTLP/HTTP protobuf to LangSmith's path, with the key and project headers; span names in the body.
        Assert.NotEmpty(_requests);
        foreach ((Dictionary<string, string> headers, string path, string contentType, _) in _requests)
        {
            Assert.Equal("/otel/v1/traces", path);
            Assert.Equal("application/x-protobuf", contentType);
            Assert.Equal("lsv2-test-key", headers["x-api-key"]);
            Assert.Equal("sandbox tools, test", headers["Langsmith-Project"]);
        }

        string wire = string.Concat(_requests.Select(r => Encoding.UTF8.GetString(r.Body)));
        foreach (string name in new[] { "invoke_agent", "execute_tool run_code", "sandbox.lease.acquire", "sandbox.create", "call_123" })
        {
            Assert.Contains(name, wire, StringComparison.Ordinal);
        }

        // The spans themselves. Other tests may run tools at the same time: look only at this test's trace.
        Activity agentSpan = Assert.Single(exported, s => s.DisplayName == "invoke_agent");
        List<Activity> spans = exported.Where(s => s.TraceId == agentSpan.TraceId).ToList();
        Activity tool = Assert.Single(spans, s => s.DisplayName == "execute_tool run_code");
        Assert.Equal("Sandbox.AgentTools", tool.Source.Name);
        Assert.Equal("execute_tool", tool.GetTagItem("gen_ai.operation.name"));
        Assert.Equal("run_code", tool.GetTagItem("gen_ai.tool.name"));
        Assert.Equal("function", tool.GetTagItem("gen_ai.tool.type"));
        Assert.Equal("call_123", tool.GetTagItem("gen_ai.tool.call.id"));
        Assert.Equal("tool", tool.GetTagItem("langsmith.span.kind"));
        Assert.Contains("fortran", (string)tool.GetTagItem("gen_ai.tool.call.arguments")!, StringComparison.Ordinal);
        Assert.Contains("invalid_argument", (string)tool.GetTagItem("gen_ai.tool.call.result")!, StringComparison.Ordinal);
        Assert.Equal(ActivityStatusCode.Error, tool.Status); // the call failed

        Assert.Equal(agentSpan.SpanId, tool.ParentSpanId);
        Activity acquire = Assert.Single(spans, s => s.DisplayName == "sandbox.lease.acquire");
        Activity create = Assert.Single(spans, s => s.DisplayName == "sandbox.create");
        Assert.Equal(acquire.SpanId, create.ParentSpanId);
        Assert.Equal("fake-1", create.GetTagItem("sandbox.name"));
    }

    [Fact]
    public void AddLangSmithExporter_WithoutApiKey_SaysWhatToSet()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Sdk.CreateTracerProviderBuilder().AddLangSmithExporter(o => o.ApiKey = null));
        Assert.Contains("LANGSMITH_API_KEY", error.Message, StringComparison.Ordinal);
    }
}
