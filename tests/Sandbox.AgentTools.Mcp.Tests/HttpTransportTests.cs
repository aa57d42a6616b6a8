using System.Buffers.Binary;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Sandbox.AgentTools.Mcp.Tests.McpToolResult;

namespace Sandbox.AgentTools.Mcp.Tests;

public sealed class HttpTransportTests(McpServerFixture fixture) : IClassFixture<McpServerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task ListTools_ReturnsTheFiveSandboxToolsWithSchemasAndHints()
    {
        await using McpClient client = await fixture.ConnectAsync();

        IList<McpClientTool> tools = await client.ListToolsAsync();

        Assert.Equal(["run_code", "write_file", "read_file", "list_files", "expose_port"], tools.Select(t => t.Name));
        McpClientTool runCode = tools[0];
        Assert.Equal("string", runCode.ProtocolTool.InputSchema.GetProperty("properties").GetProperty("code").GetProperty("type").GetString());
        Assert.Contains("code", runCode.ProtocolTool.InputSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.True(tools.Single(t => t.Name == "read_file").ProtocolTool.Annotations?.ReadOnlyHint);
        Assert.True(tools.Single(t => t.Name == "expose_port").ProtocolTool.Annotations?.OpenWorldHint);
    }

    [Fact]
    public async Task EachSession_IsItsOwnConversation_VariablesAndFilesStayInTheirSession()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await using McpClient a = await fixture.ConnectAsync();
        await using McpClient b = await fixture.ConnectAsync();
        Assert.NotEqual(a.SessionId, b.SessionId);

        CallToolResult set = await a.CallToolAsync("run_code", Args(("language", "python"), ("code", "secret = 'only-in-a'\nprint('set')")), cancellationToken: timeout.Token);
        Assert.Equal("set", Stdout(set).Trim());
        await a.CallToolAsync("write_file", Args(("path", "a-notes.txt"), ("content", "from session a")), cancellationToken: timeout.Token);

        // Session A keeps its state between calls ...
        CallToolResult again = await a.CallToolAsync("run_code", Args(("language", "python"), ("code", "print(secret)")), cancellationToken: timeout.Token);
        Assert.Equal("only-in-a", Stdout(again).Trim());

        // ... and session B sees none of it: another interpreter, another box.
        CallToolResult other = await b.CallToolAsync("run_code", Args(("language", "python"), ("code", "print(globals().get('secret', 'absent'))")), cancellationToken: timeout.Token);
        Assert.Equal("absent", Stdout(other).Trim());
        CallToolResult read = await b.CallToolAsync("read_file", Args(("path", "a-notes.txt")), cancellationToken: timeout.Token);
        Assert.True(read.IsError);
        Assert.Equal("not_found", Record(read).GetProperty("error_type").GetString());
        CallToolResult hostname = await b.CallToolAsync("run_code", Args(("language", "bash"), ("code", "ls")), cancellationToken: timeout.Token);
        Assert.DoesNotContain("a-notes.txt", Stdout(hostname), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunCode_AnImageItWrites_ComesBackAsAnMcpImageContentBlock()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await using McpClient client = await fixture.ConnectAsync();
        const string code = """
            import os, struct, zlib
            def chunk(kind, data):
                body = kind + data
                return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
            raw = b"".join(b"\x00" + b"\xff\x00\x00" * 7 for _ in range(5))
            png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 7, 5, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
            open(os.path.join(os.environ["SANDBOX_OUTPUT_DIR"], "red.png"), "wb").write(png)
            print("drawn")
            """;

        CallToolResult result = await client.CallToolAsync("run_code", Args(("language", "python"), ("code", code)), cancellationToken: timeout.Token);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal("drawn", Stdout(result).Trim());
        ImageContentBlock image = Assert.Single(result.Content.OfType<ImageContentBlock>());
        Assert.Equal("image/png", image.MimeType);
        byte[] png = image.DecodedData.ToArray();
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal((7, 5), (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));
        // The JSON record stays text: no base64 inside it.
        Assert.True(Assert.IsType<TextContentBlock>(result.Content[0]).Text.Length < 4096);
    }

    [Fact]
    public async Task ReadFile_OfAnImage_ComesBackAsAnImageBlock_AndAPathOutsideTheWorkspaceIsAnError()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await using McpClient client = await fixture.ConnectAsync();
        await client.CallToolAsync("run_code", Args(("language", "bash"), ("code", "printf '\\x89PNG\\r\\n\\x1a\\n' > tiny.png; head -c 64 /dev/zero >> tiny.png")), cancellationToken: timeout.Token);

        CallToolResult image = await client.CallToolAsync("read_file", Args(("path", "tiny.png")), cancellationToken: timeout.Token);
        CallToolResult outside = await client.CallToolAsync("read_file", Args(("path", "/etc/passwd")), cancellationToken: timeout.Token);

        Assert.Equal("image/png", Assert.Single(image.Content.OfType<ImageContentBlock>()).MimeType);
        Assert.True(outside.IsError);
        JsonElement error = Record(outside);
        Assert.False(string.IsNullOrEmpty(error.GetProperty("hint").GetString()));
    }

    [Fact]
    public async Task EndingASession_DeletesItsBox()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        int before = fixture.Pool.GetStatistics().Total;
        McpClient client = await fixture.ConnectAsync();
        await client.CallToolAsync("run_code", Args(("language", "bash"), ("code", "echo hi")), cancellationToken: timeout.Token);
        Assert.Equal(before + 1, fixture.Pool.GetStatistics().Total);

        await client.DisposeAsync(); // the HTTP client ends its session (DELETE)

        while (fixture.Pool.GetStatistics().Total > before)
        {
            await Task.Delay(50, timeout.Token);
        }
    }
}
