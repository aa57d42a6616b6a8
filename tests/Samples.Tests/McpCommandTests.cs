using System.Text.Json;
using CodeInterpreterAgent.Mcp;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Samples.Tests;

/// <summary>The sample's <c>mcp</c> command, driven by the MCP C# client: over stdio as a real process, and over HTTP.</summary>
[Collection(SamplesCollection.Name)]
public sealed class McpCommandTests(ITestOutputHelper log)
{
    [Fact]
    public async Task Stdio_AClientStartsTheProcess_RunsCodeWithStateKept_AndGetsImagesAsImageBlocks()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var stderr = new List<string>();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "code-interpreter-mcp",
            Command = "dotnet",
            Arguments = [SampleAssembly(), "mcp"],
            StandardErrorLines = line =>
            {
                lock (stderr)
                {
                    stderr.Add(line);
                }
            },
        });

        await using (McpClient client = await McpClient.CreateAsync(transport, cancellationToken: timeout.Token))
        {
            Assert.Equal(McpServerHost.ServerName, client.ServerInfo?.Name);
            IList<McpClientTool> tools = await client.ListToolsAsync(cancellationToken: timeout.Token);
            Assert.Equal(["run_code", "write_file", "read_file", "list_files", "expose_port"], tools.Select(t => t.Name));

            await client.CallToolAsync("run_code", Args(("language", "python"), ("code", "total = 6 * 7")), cancellationToken: timeout.Token);
            CallToolResult kept = await client.CallToolAsync("run_code", Args(("language", "python"), ("code", "print(total)")), cancellationToken: timeout.Token);
            Assert.Equal("42", Record(kept).GetProperty("stdout").GetString()!.Trim());

            const string draw = """
                import os, struct, zlib
                def chunk(kind, data):
                    body = kind + data
                    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
                raw = b"".join(b"\x00" + b"\x00\x80\xff" * 4 for _ in range(3))
                png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 3, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
                open(os.path.join(os.environ["SANDBOX_OUTPUT_DIR"], "blue.png"), "wb").write(png)
                """;
            CallToolResult image = await client.CallToolAsync("run_code", Args(("language", "python"), ("code", draw)), cancellationToken: timeout.Token);
            ImageContentBlock block = Assert.Single(image.Content.OfType<ImageContentBlock>());
            Assert.Equal("image/png", block.MimeType);
            Assert.Equal((4, 3), PngFile.Validate(block.DecodedData.ToArray()));
        }

        string errors = string.Join('\n', stderr);
        log.WriteLine(errors);
        Assert.Contains("MCP server 'sandbox-agent-tools' on stdio; sandboxes: embedded local sandbox server", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_OnANonLoopbackAddress_IsRefused()
    {
        using var writer = new StringWriter();

        int exitCode = await CodeInterpreterAgent.Program.RunAsync(["mcp", "--http", "http://0.0.0.0:3001", "--endpoint", "http://127.0.0.1:9/v2/sandboxes", "--api-key", "k"], writer, CancellationToken.None);

        Assert.Equal(2, exitCode);
        Assert.Contains("listens on loopback only", writer.ToString(), StringComparison.Ordinal);
    }

    private static Dictionary<string, object?> Args(params (string Name, object? Value)[] arguments) =>
        arguments.ToDictionary(a => a.Name, a => a.Value, StringComparer.Ordinal);

    private static JsonElement Record(CallToolResult result)
    {
        using var doc = JsonDocument.Parse(Assert.IsType<TextContentBlock>(result.Content[0]).Text);
        return doc.RootElement.Clone();
    }

    /// <summary>The sample's built assembly, runnable with <c>dotnet</c> (needs its runtimeconfig beside it).</summary>
    private static string SampleAssembly()
    {
        string beside = typeof(CodeInterpreterAgent.Program).Assembly.Location;
        if (File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
        {
            return beside;
        }

        // tests/Samples.Tests/bin/<configuration>/<tfm>/ -> samples/CodeInterpreterAgent/bin/<configuration>/<tfm>/
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string repo = Path.GetFullPath(Path.Combine(testBin.FullName, "..", "..", "..", "..", ".."));
        return Path.Combine(repo, "samples", "CodeInterpreterAgent", "bin", testBin.Parent!.Name, testBin.Name, "CodeInterpreterAgent.dll");
    }
}
