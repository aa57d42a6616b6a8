using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>Shared pieces of the framework tests: the scripted code, span capture, and the evidence written to artifacts/.</summary>
internal static class FrameworkTestKit
{
    /// <summary>Python that draws a 220x220 PNG of noise (incompressible: ~145 KB) into the call's output directory.</summary>
    public const string PythonDrawsPng =
        "import os, struct, zlib\n" +
        "w = h = 220\n" +
        "raw = b''.join(b'\\x00' + os.urandom(w * 3) for _ in range(h))\n" +
        "def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)\n" +
        "png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')\n" +
        "open(os.path.join(os.environ['SANDBOX_OUTPUT_DIR'], 'noise.png'), 'wb').write(png)\n" +
        "total = sum(int(x) for x in open('data/nums.txt').read().split())\n" +
        "print(f'total={total} png={len(png)}')";

    /// <summary>Directory for evidence files: artifacts/framework-tools under the repository root.</summary>
    public static string ArtifactsDirectory
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sandbox.AgentTools.sln")))
            {
                dir = dir.Parent;
            }

            string path = Path.Combine(dir?.FullName ?? Path.GetTempPath(), "artifacts", "framework-tools");
            Directory.CreateDirectory(path);
            return path;
        }
    }

    public static void WriteEvidence(string fileName, string text) => File.WriteAllText(Path.Combine(ArtifactsDirectory, fileName), text);

    public static string SpanList(IEnumerable<Activity> spans)
    {
        var text = new StringBuilder();
        foreach (Activity span in spans.OrderBy(s => s.StartTimeUtc))
        {
            text.Append(span.DisplayName).Append("  [source ").Append(span.Source.Name).Append(']');
            foreach (string tag in (ReadOnlySpan<string>)["gen_ai.tool.call.id", "gen_ai.tool.name", "langsmith.span.kind", "sandbox.conversation.source", "sandbox.conversation.id"])
            {
                if (span.GetTagItem(tag) is { } value)
                {
                    text.Append("  ").Append(tag).Append('=').Append(value);
                }
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    public static string Json(JsonElement element) => JsonSerializer.Serialize(element, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public static string Excerpt(JsonObject request) => RecordedRequests.Excerpt(request);
}

/// <summary>Collects the spans of one test (its own trace) with the OpenTelemetry SDK's in-memory exporter.</summary>
internal sealed class SpanCapture : IDisposable
{
    private static readonly ActivitySource TestSource = new("Sandbox.AgentTools.Tests.Frameworks");
    private readonly List<Activity> _exported = [];
    private readonly TracerProvider _provider;
    private readonly Activity _root;

    public SpanCapture(string name)
    {
        _provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(TestSource.Name, "Sandbox.AgentTools", "Experimental.Microsoft.Extensions.AI", "Microsoft.Extensions.AI",
                "Microsoft.SemanticKernel*", "Experimental.Microsoft.Agents.AI", "Microsoft.Agents.AI*")
            .AddInMemoryExporter(_exported)
            .Build();
        _root = TestSource.StartActivity(name, ActivityKind.Internal) ?? throw new InvalidOperationException("no listener");
    }

    /// <summary>The finished spans of this test's trace.</summary>
    public IReadOnlyList<Activity> Spans
    {
        get
        {
            _provider.ForceFlush();
            lock (_exported)
            {
                return [.. _exported.Where(a => a.TraceId == _root.TraceId && a != _root)];
            }
        }
    }

    /// <summary>The <c>execute_tool</c> spans of this test.</summary>
    public IReadOnlyList<Activity> ToolSpans => [.. Spans.Where(s => s.DisplayName.StartsWith("execute_tool ", StringComparison.Ordinal))];

    public void Dispose()
    {
        _root.Dispose();
        _provider.Dispose();
    }
}
