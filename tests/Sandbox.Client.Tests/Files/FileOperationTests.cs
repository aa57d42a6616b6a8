using System.Text;
using Microsoft.AspNetCore.Http;
using Sandbox.Client.Tests.Infrastructure;

namespace Sandbox.Client.Tests.Files;

public sealed class FileOperationTests : IAsyncLifetime
{
    private FakeSandboxServer _server = null!;
    private SandboxClient _client = null!;
    private SandboxInstance _box = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeSandboxServer.StartAsync();
        _client = _server.CreateClient();
        _box = _server.Instance(_client);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task WriteFileAsync_SendsMultipartFilePartWithRawBytes()
    {
        // Scenario 41
        byte[]? received = null;
        string? disposition = null, partType = null;
        _server.On("POST", "/dp/sb-1/upload", async (c, r) =>
        {
            var form = await new Microsoft.AspNetCore.WebUtilities.MultipartReader(
                Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(r.Header("Content-Type")).Boundary).Value!,
                new MemoryStream(r.Body)).ReadNextSectionAsync();
            disposition = form!.ContentDisposition;
            partType = form.ContentType;
            using var buffer = new MemoryStream();
            await form.Body.CopyToAsync(buffer);
            received = buffer.ToArray();
            await FakeSandboxServer.Respond(c, 200, new { path = "/app/test.txt", written = 4 });
        });
        await _box.WriteFileAsync("/app/test.txt", new byte[] { 0, 1, 2, 3 });
        var request = Assert.Single(_server.Requests);
        Assert.Equal("?path=%2Fapp%2Ftest.txt", request.QueryString);
        Assert.StartsWith("multipart/form-data", request.Header("Content-Type"));
        Assert.Equal([0, 1, 2, 3], received);
        Assert.Contains("name=\"file\"", disposition);
        Assert.Contains("filename=\"file\"", disposition);
        Assert.Equal("application/octet-stream", partType);
        Assert.Equal("test-key", request.Header("X-Api-Key"));
    }

    [Fact]
    public async Task WriteFileAsync_FromNonSeekableStream_StreamsWholeContent()
    {
        var payload = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(payload);
        _server.OnJson("POST", "/dp/sb-1/upload", 200, new { path = "/big", written = payload.Length });
        await _box.WriteFileAsync("/big", new NonSeekable(new MemoryStream(payload)));
        var body = Assert.Single(_server.Requests).Body;
        Assert.True(body.AsSpan().IndexOf(payload.AsSpan(0, 4096)) > 0);
        Assert.True(body.Length > payload.Length);
    }

    [Fact]
    public async Task WriteFileAsync_WriteError_ThrowsOperationErrorWrite()
    {
        _server.OnJson("POST", "/dp/sb-1/upload", 500, FakeSandboxServer.Detail("WriteError", "disk full"));
        var error = await Assert.ThrowsAsync<SandboxOperationException>(() => _box.WriteFileAsync("/a", "x"));
        Assert.Equal("write", error.Operation);
        Assert.Equal("WriteError", error.ErrorType);
    }

    [Fact]
    public async Task ReadFileAsync_ReturnsBytesUnchangedAndMaps404ToFileNotFound()
    {
        // Scenario 42
        _server.On("GET", "/dp/sb-1/download", (c, r) => r.QueryString == "?path=%2Fapp%2Fdata.bin"
            ? c.Response.Body.WriteAsync(new byte[] { 0xff, 0, 0x80 }).AsTask()
            : FakeSandboxServer.Respond(c, 404, "whatever"));
        Assert.Equal([0xff, 0, 0x80], await _box.ReadFileAsync("/app/data.bin"));
        var stopped = _client.GetSandbox(_server.Box(status: "stopped")); // scenario 38: status does not gate the data plane
        Assert.Equal([0xff, 0, 0x80], await stopped.ReadFileAsync("/app/data.bin"));
        var error = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _box.ReadFileAsync("/missing"));
        Assert.Equal("file", error.ResourceType);
        Assert.Equal("File '/missing' not found in sandbox 'sb-1'", error.Message);
    }

    [Fact]
    public async Task ReadFileAsync_ChunkedBodyWithoutLength_IsReadCompletely()
    {
        var payload = new byte[300_000];
        new Random(3).NextBytes(payload);
        _server.On("GET", "/dp/sb-1/download", async (c, _) =>
        {
            for (var i = 0; i < payload.Length; i += 65536)
            {
                await c.Response.Body.WriteAsync(payload.AsMemory(i, Math.Min(65536, payload.Length - i)));
                await c.Response.Body.FlushAsync();
            }
        });
        Assert.Equal(payload, await _box.ReadFileAsync("/f"));
    }

    [Fact]
    public async Task OpenReadAsync_StreamsTheBody()
    {
        var payload = Encoding.UTF8.GetBytes(new string('x', 200_000));
        _server.On("GET", "/dp/sb-1/download", (c, _) => c.Response.Body.WriteAsync(payload).AsTask());
        await using var stream = await _box.OpenReadAsync("/f");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(payload, copy.ToArray());
        Assert.False(stream.CanSeek);
    }

    [Theory]
    [InlineData(503, "ServiceUnavailable", typeof(SandboxNotReadyException))]
    [InlineData(400, "NotReady", typeof(SandboxNotReadyException))]
    [InlineData(502, "ConnectionError", typeof(SandboxConnectionException))]
    [InlineData(500, "ReadError", typeof(SandboxOperationException))]
    [InlineData(403, "Forbidden", typeof(SandboxOperationException))]
    [InlineData(410, "FileNotFound", typeof(ResourceNotFoundException))]
    [InlineData(418, "Teapot", typeof(SandboxException))]
    public async Task ReadFileAsync_DataPlaneErrors_MapPerSpecTable(int status, string errorType, Type expected)
    {
        // Scenario 40 and spec §3.6
        _server.OnJson("GET", "/dp/sb-1/download", status, FakeSandboxServer.Detail(errorType, "Sandbox is starting: sb-123"));
        var error = await Assert.ThrowsAnyAsync<SandboxException>(() => _box.ReadFileAsync("/a"));
        Assert.IsType(expected, error);
        Assert.Contains("Sandbox is starting: sb-123", error.Message);
    }

    [Fact]
    public async Task RunAsync_OverHttp_PostsExecuteAndReturnsResultUnchanged()
    {
        // Scenarios 39, 61 (HTTP only on request) and delta 42
        _server.OnJson("POST", "/dp/sb-1/execute", 200, new { stdout = "out", stderr = "err", exit_code = 127 });
        var result = await _box.RunAsync("nope", new RunOptions { UseHttpExecute = true });
        await _box.RunAsync("x", new RunOptions { UseHttpExecute = true, Env = new Dictionary<string, string>(), RunConfig = null, Cwd = "/w" });
        await _box.RunAsync("x", new RunOptions { UseHttpExecute = true, RunConfig = new Protocol.RunConfig { WorkDir = "/w" } });
        Assert.Equal(new CommandResult("out", "err", 127), result);
        var bodies = _server.RequestsTo("/dp/sb-1/execute").Select(r => r.BodyText).ToList();
        Assert.Equal("""{"command":"nope","timeout":60,"shell":"/bin/bash"}""", bodies[0]);
        Assert.Equal("""{"command":"x","timeout":60,"shell":"/bin/bash","env":{},"cwd":"/w"}""", bodies[1]);
        Assert.Equal("""{"command":"x","timeout":60,"shell":"/bin/bash","run_config":{"work_dir":"/w"}}""", bodies[2]);
        Assert.Empty(_server.ExecConnections);
    }

    [Fact]
    public async Task RunAsync_OverHttp_StartingSandboxAfterRetries_ThrowsNotReady()
    {
        // Scenario 40
        _server.OnJson("POST", "/dp/sb-1/execute", 503, FakeSandboxServer.Detail("ServiceUnavailable", "Sandbox is starting: sb-123"));
        var error = await Assert.ThrowsAsync<SandboxNotReadyException>(() => _box.RunAsync("x", new RunOptions { UseHttpExecute = true }));
        Assert.Equal("Sandbox is starting: sb-123", error.Message);
        Assert.Equal(4, _server.Requests.Count);
    }

    [Fact]
    public async Task StatAsync_ReadsHeadersOfHead()
    {
        // Delta scenario 27
        _server.On("HEAD", "/dp/sb-1/download", (c, _) =>
        {
            c.Response.ContentLength = 1234;
            c.Response.Headers.ETag = "\"v7\"";
            c.Response.Headers.LastModified = "Wed, 21 Oct 2026 07:28:00 GMT";
            c.Response.ContentType = "text/plain";
            return Task.CompletedTask;
        });
        var stat = await _box.StatAsync("/w/a.txt");
        Assert.Equal(new FileStat(1234, "\"v7\"", "Wed, 21 Oct 2026 07:28:00 GMT", "text/plain"), stat);
        Assert.Equal("?path=%2Fw%2Fa.txt", Assert.Single(_server.Requests).QueryString);
    }

    [Fact]
    public async Task ReadRangeAsync_206_ReportsPartialStartAndTotal()
    {
        // Delta scenario 28
        _server.On("GET", "/dp/sb-1/download", async (c, _) =>
        {
            c.Response.StatusCode = 206;
            c.Response.Headers.ContentRange = "bytes 1024-1027/52000";
            c.Response.Headers.ETag = "\"v7\"";
            await c.Response.Body.WriteAsync("abcd"u8.ToArray());
        });
        var result = await _box.ReadRangeAsync("/f", new RangeReadOptions { Start = 1024, End = 2047, IfRange = "\"v7\"" });
        Assert.True(result.Partial);
        Assert.Equal(1024, result.Start);
        Assert.Equal(52000, result.TotalBytes);
        Assert.Equal("abcd"u8.ToArray(), result.Content);
        var request = Assert.Single(_server.Requests);
        Assert.Equal("bytes=1024-2047", request.Header("Range"));
        Assert.Equal("\"v7\"", request.Header("If-Range"));
    }

    [Fact]
    public async Task ReadRangeAsync_200And304_ReportWholeFileOrUnchanged()
    {
        // Delta scenarios 29, 30
        _server.On("GET", "/dp/sb-1/download", (c, _) => c.Response.Body.WriteAsync("whole"u8.ToArray()).AsTask(), times: 1);
        _server.On("GET", "/dp/sb-1/download", (c, _) => { c.Response.StatusCode = 304; c.Response.Headers.ETag = "\"v8\""; return Task.CompletedTask; });
        var whole = await _box.ReadRangeAsync("/f", new RangeReadOptions { Start = 10 });
        Assert.False(whole.Partial);
        Assert.Equal(0, whole.Start);
        Assert.Equal(5, whole.TotalBytes);
        var unchanged = await _box.ReadRangeAsync("/f", new RangeReadOptions { SuffixBytes = 5, IfNoneMatch = "\"v8\"" });
        Assert.True(unchanged.Unchanged);
        Assert.Empty(unchanged.Content);
        Assert.Equal("\"v8\"", unchanged.ETag);
        Assert.Equal(["bytes=10-", "bytes=-5"], _server.Requests.Select(r => r.Header("Range")));
    }

    [Fact]
    public async Task ReadRangeAsync_416_ThrowsReadErrorWithContentRange()
    {
        // Delta scenario 31
        _server.On("GET", "/dp/sb-1/download", (c, _) => { c.Response.StatusCode = 416; c.Response.Headers.ContentRange = "bytes */100"; return Task.CompletedTask; });
        var error = await Assert.ThrowsAsync<SandboxOperationException>(() => _box.ReadRangeAsync("/f", new RangeReadOptions { Start = 100 }));
        Assert.Equal("read", error.Operation);
        Assert.Contains("bytes */100", error.Message);
    }

    public static TheoryData<RangeReadOptions> InvalidRanges => new()
    {
        new RangeReadOptions { SuffixBytes = 5, Start = 0 },
        new RangeReadOptions { SuffixBytes = 0 },
        new RangeReadOptions(),
        new RangeReadOptions { Start = -1 },
        new RangeReadOptions { Start = 10, End = 5 },
    };

    [Theory]
    [MemberData(nameof(InvalidRanges))]
    public async Task ReadRangeAsync_InvalidRange_FailsWithoutRequest(RangeReadOptions options)
    {
        // Delta scenario 32
        await Assert.ThrowsAsync<SandboxValidationException>(() => _box.ReadRangeAsync("/f", options));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task GlobListAndGrep_SendSpecBodiesAndReturnMatches()
    {
        // Delta scenarios 33, 34, 35
        _server.OnJson("POST", "/dp/sb-1/glob", 200, new { matches = new[] { new { path = "/w/a.py", is_dir = false, size_bytes = 3, modified_at = "2026-11-01T09:30:00Z" } }, truncated = true });
        _server.OnJson("POST", "/dp/sb-1/grep", 200, new { matches = new[] { new { path = "/w/a.py", line = 1, text = "a.b" } }, truncated = false });
        var glob = await _box.GlobAsync("**/*.py", "/w", 200);
        var ls = await _box.ListAsync("/w");
        var grep = await _box.GrepAsync("a.b", "/w", glob: "*.py");
        Assert.True(glob.Truncated);
        Assert.Equal(3, glob.Matches[0].SizeBytes);
        Assert.Single(ls.Matches);
        Assert.Equal(1, grep.Matches[0].Line);
        var bodies = _server.Requests.Select(r => r.BodyText).ToList();
        Assert.Equal("""{"pattern":"**/*.py","path":"/w","limit":200}""", bodies[0]);
        Assert.Equal("""{"pattern":"*","path":"/w"}""", bodies[1]);
        Assert.Equal("""{"pattern":"a.b","path":"/w","glob":"*.py"}""", bodies[2]);
    }

    [Fact]
    public async Task FileQueries_PerCallHeaders_FollowDeltaMergeOrder()
    {
        // Delta §2.2: per-call, then Range/If-*, then X-Api-Key, then defaults only where absent
        using var client = _server.CreateClient(o => o.DefaultHeaders["X-Service-Key"] = "default-svc");
        var box = _server.Instance(client);
        _server.On("GET", "/dp/sb-1/download", (c, _) => c.Response.Body.WriteAsync("x"u8.ToArray()).AsTask());
        _server.OnJson("POST", "/dp/sb-1/glob", 200, new { matches = Array.Empty<object>(), truncated = false });
        await box.ReadRangeAsync("/f", new RangeReadOptions
        {
            Start = 0,
            Headers = new Dictionary<string, string> { ["X-Service-Key"] = "call-svc", ["range"] = "bytes=5-", ["X-Api-Key"] = "call-key", ["X-Trace"] = "t1" },
        });
        await box.GlobAsync(new Protocol.GlobRequest { Pattern = "*", Path = "/w" }, new Dictionary<string, string> { ["Content-Type"] = "application/vnd.test+json" });
        var range = _server.RequestsTo("/dp/sb-1/download")[0];
        Assert.Equal("call-svc", range.Header("X-Service-Key"));
        Assert.Equal("bytes=0-", range.Header("Range"));
        Assert.Equal("test-key", range.Header("X-Api-Key"));
        Assert.Equal("t1", range.Header("X-Trace"));
        var glob = _server.RequestsTo("/dp/sb-1/glob")[0];
        Assert.Equal("application/vnd.test+json", glob.Header("Content-Type"));
        Assert.Equal("default-svc", glob.Header("X-Service-Key"));
    }

    [Fact]
    public async Task FileQueries_On404_ThrowFileNotFoundNamingPathAndSandbox()
    {
        // Delta scenario 36
        _server.OnJson("POST", "/dp/sb-1/glob", 404, new { detail = "x" });
        _server.OnJson("POST", "/dp/sb-1/grep", 404, new { detail = "x" });
        _server.On("HEAD", "/dp/sb-1/download", (c, _) => { c.Response.StatusCode = 404; return Task.CompletedTask; });
        foreach (var call in new Func<Task>[] { () => _box.GlobAsync("*", "/nope"), () => _box.GrepAsync("x", "/nope"), () => _box.StatAsync("/nope") })
        {
            var error = await Assert.ThrowsAsync<ResourceNotFoundException>(call);
            Assert.Equal("file", error.ResourceType);
            Assert.Contains("/nope", error.Message);
            Assert.Contains("sb-1", error.Message);
        }
    }

    private sealed class NonSeekable(Stream inner) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
