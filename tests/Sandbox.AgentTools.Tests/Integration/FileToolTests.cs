using System.Net;
using System.Text.Json;
using Sandbox.Client;

namespace Sandbox.AgentTools.Tests;

[Collection(LocalServerCollection.Name)]
public sealed class FileToolTests(LocalServerFixture fixture)
{
    private ToolHarness Conversation(SandboxToolOptions? options = null) => new(fixture.Pool, "conv-" + Guid.NewGuid().ToString("N")[..8], options);

    [Fact]
    public async Task WriteThenRead_Text_RoundTrips_AndCodeSeesTheFile()
    {
        await using ToolHarness chat = Conversation();
        ToolCall write = await chat.CallAsync("write_file", new { path = "data/notes.txt", content = "héllo\nworld\n", encoding = "utf-8" });
        Assert.Equal("data/notes.txt", write.Str("path"));
        Assert.Equal(13, write.Long("bytes_written"));

        ToolCall read = await chat.CallAsync("read_file", new { path = "data/notes.txt" });
        Assert.Equal("text", read.Str("kind"));
        Assert.Equal("héllo\nworld\n", read.Str("content"));
        Assert.False(read.Bool("truncated"));

        ToolCall code = await chat.CallAsync("run_code", new { code = "print(open('data/notes.txt').read().split()[1])", language = "python" });
        Assert.Equal("world\n", code.Str("stdout"));
    }

    [Fact]
    public async Task Binary_IsDescribedNotDumped_UnlessBase64IsAskedFor()
    {
        await using ToolHarness chat = Conversation();
        byte[] blob = [0x00, 0x01, 0x02, 0xFF, 0xFE, 0x00, 0x42];
        await chat.CallAsync("write_file", new { path = "blob.bin", content = Convert.ToBase64String(blob), encoding = "base64" });

        ToolCall described = await chat.CallAsync("read_file", new { path = "blob.bin" });
        Assert.Equal("binary", described.Str("kind"));
        Assert.Equal(7, described.Long("size_bytes"));
        Assert.False(described.Json.TryGetProperty("content", out _));
        Assert.Contains("base64", described.Str("note"), StringComparison.Ordinal);

        ToolCall raw = await chat.CallAsync("read_file", new { path = "blob.bin", encoding = "base64" });
        Assert.Equal(blob, Convert.FromBase64String(raw.Str("content")));
    }

    [Fact]
    public async Task Image_IsReturnedAsDataContent()
    {
        await using ToolHarness chat = Conversation();
        await chat.CallAsync("write_file", new { path = "pics/dot.png", content = Convert.ToBase64String(TestImages.Png), encoding = "base64" });
        ToolCall read = await chat.CallAsync("read_file", new { path = "pics/dot.png" });
        Assert.Equal("image", read.Str("kind"));
        Microsoft.Extensions.AI.DataContent image = Assert.Single(read.Media);
        Assert.Equal("image/png", image.MediaType);
        Assert.Equal(TestImages.Png, image.Data.ToArray());
    }

    [Fact]
    public async Task LargeText_IsPaged_WithNextOffset()
    {
        await using ToolHarness chat = Conversation(new SandboxToolOptions { MaxReadBytes = 1000 });
        string content = string.Concat(Enumerable.Range(0, 300).Select(i => $"{i:D4}\n"));
        await chat.CallAsync("write_file", new { path = "big.txt", content, encoding = "utf-8" });

        ToolCall first = await chat.CallAsync("read_file", new { path = "big.txt" });
        Assert.True(first.Bool("truncated"));
        Assert.Equal(1500, first.Long("size_bytes"));
        Assert.Equal(1000, first.Long("next_offset"));
        Assert.Equal(content[..1000], first.Str("content"));

        ToolCall second = await chat.CallAsync("read_file", new { path = "big.txt", offset = 1000 });
        Assert.False(second.Bool("truncated"));
        Assert.Equal(content[1000..], second.Str("content"));
    }

    [Fact]
    public async Task Traversal_AndSymlinkEscapes_AreRefused()
    {
        await using ToolHarness chat = Conversation();
        ToolCall dotdot = await chat.CallAsync("read_file", new { path = "../../etc/passwd" });
        Assert.Equal("path_outside_workspace", dotdot.Str("error_type"));

        ToolCall link = await chat.CallAsync("run_code", new { code = "ln -s /etc etc-link && ln -s /tmp/outside.txt out.txt", language = "bash" });
        Assert.Equal(0, link.Long("exit_code"));
        ToolCall viaLink = await chat.CallAsync("read_file", new { path = "etc-link/passwd" });
        Assert.Equal("path_outside_workspace", viaLink.Str("error_type"));
        Assert.Contains("symbolic link", viaLink.Str("error"), StringComparison.Ordinal);

        ToolCall writeViaLink = await chat.CallAsync("write_file", new { path = "out.txt", content = "x", encoding = "utf-8" });
        Assert.Equal("path_outside_workspace", writeViaLink.Str("error_type"));
        ToolCall check = await chat.CallAsync("run_code", new { code = "test -e /tmp/outside.txt && echo written || echo absent", language = "bash" });
        Assert.Equal("absent\n", check.Str("stdout"));
    }

    [Fact]
    public async Task MissingFile_SaysSoAndSuggestsListFiles()
    {
        await using ToolHarness chat = Conversation();
        ToolCall read = await chat.CallAsync("read_file", new { path = "nope.txt" });
        Assert.Equal("not_found", read.Str("error_type"));
        Assert.Contains("list_files", read.Str("hint"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListFiles_ShowsWhatTheWorkspaceHolds_WithSizes()
    {
        await using ToolHarness chat = Conversation();
        await chat.CallAsync("write_file", new { path = "src/app.py", content = "print(1)\n", encoding = "utf-8" });
        await chat.CallAsync("write_file", new { path = "README.md", content = "# hi\n", encoding = "utf-8" });

        ToolCall all = await chat.CallAsync("list_files", new { });
        var entries = all.Json.GetProperty("entries").EnumerateArray()
            .ToDictionary(e => e.GetProperty("path").GetString()!, e => (Dir: e.GetProperty("is_dir").GetBoolean(), Size: e.GetProperty("size_bytes").GetInt64()));
        Assert.Equal((false, 9L), entries["src/app.py"]);
        Assert.Equal((false, 5L), entries["README.md"]);
        Assert.True(entries["src"].Dir);

        ToolCall python = await chat.CallAsync("list_files", new { path = "src", pattern = "*.py" });
        Assert.Equal("src/app.py", Assert.Single(python.Json.GetProperty("entries").EnumerateArray()).GetProperty("path").GetString());
    }

    [Fact]
    public async Task ExposePort_WaitsForTheServer_AndTheUrlServes()
    {
        await using ToolHarness chat = Conversation(new SandboxToolOptions { ExposePortTimeout = TimeSpan.FromSeconds(20) });
        await chat.CallAsync("write_file", new { path = "site/index.html", content = "<h1>from the box</h1>", encoding = "utf-8" });
        ToolCall start = await chat.CallAsync("run_code", new
        {
            code = "cd site && nohup python3 -m http.server 8765 --bind 0.0.0.0 > /tmp/http.log 2>&1 &",
            language = "bash",
        });
        Assert.Equal(0, start.Long("exit_code"));

        ToolCall exposed = await chat.CallAsync("expose_port", new { port = 8765 });
        Assert.True(exposed.Json.TryGetProperty("http_status", out _), exposed.ToString());
        Assert.Equal(200, exposed.Long("http_status"));
        string serviceUrl = exposed.Str("service_url");
        Assert.StartsWith("http://", serviceUrl, StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(exposed.Str("expires_at")));

        // An outside client with a service token for that box and port reaches the server through the returned URL.
        await using SandboxLease lease = await fixture.Pool.RentAsync(chat.ConversationId);
        ServiceUrl token = await lease.Sandbox.GetServiceUrlAsync(8765);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, serviceUrl.TrimEnd('/') + "/index.html");
        request.Headers.Add(ServiceUrl.TokenHeader, await token.GetTokenAsync());
        using HttpResponseMessage response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("<h1>from the box</h1>", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ExposePort_WithNothingListening_SaysHowToStartAServer()
    {
        await using ToolHarness chat = Conversation(new SandboxToolOptions { ExposePortTimeout = TimeSpan.FromSeconds(1) });
        ToolCall exposed = await chat.CallAsync("expose_port", new { port = 8799 });
        Assert.Equal("port_not_ready", exposed.Str("error_type"));
        Assert.Contains("http.server 8799", exposed.Str("hint"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PoolBoxes_AreCreatedWithTheConfiguredProxyConfig()
    {
        var proxy = JsonSerializer.Deserialize<Sandbox.Protocol.ProxyConfig>(
            """{"rules":[{"name":"github","type":"headers","enabled":true,"match_hosts":["api.github.com"],"headers":[{"name":"authorization","type":"workspace_secret","value":"{GITHUB_TOKEN}"}]}]}""",
            Sandbox.Protocol.SandboxJson.Options)!;
        await using var pool = new SandboxLeasePool(fixture.Client, new SandboxPoolOptions { MinIdle = 0, MaxBoxes = 1, ProxyConfig = proxy });
        await using SandboxLease lease = await pool.RentAsync("proxy-conv");
        SandboxInstance fetched = await fixture.Client.GetSandboxAsync(lease.Sandbox.Name);
        Sandbox.Protocol.ProxyRule rule = Assert.Single(fetched.Info.ProxyConfig!.Rules);
        Assert.Equal("github", rule.Name);
        Assert.Equal("true", fetched.Info.Labels![ClientSandboxProvisioner.PoolLabel]);
    }
}
