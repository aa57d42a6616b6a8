using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Files;

public sealed class FileApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private SandboxInfo _box = null!;

    public async ValueTask InitializeAsync()
    {
        _box = await fixture.CreateBoxAsync();
        await fixture.ExecAsync(_box.Id!, "mkdir -p /w/src/pkg /w/docs && printf 'import os\\na.b here\\naxb there\\n' > /w/src/app.py && echo 'x = 1' > /w/src/pkg/mod.py && echo 'a.b in docs' > /w/docs/readme.md && echo top > /w/top.py && seq 1 1000 > /w/nums.txt");
    }

    public async ValueTask DisposeAsync() => await fixture.DeleteBoxAsync(_box.Name);

    private string Download(string path) => $"/dp/{_box.Id}/download?path={Uri.EscapeDataString(path)}";

    [Fact]
    public async Task Head_ReportsSizeETagAndLastModified_WithoutABody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, Download("/w/nums.txt"));
        using var response = await fixture.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3893, response.Content.Headers.ContentLength);
        Assert.NotNull(response.Headers.ETag);
        Assert.False(response.Headers.ETag!.IsWeak);
        Assert.NotNull(response.Content.Headers.LastModified);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());

        var stat = await fixture.Client.GetSandbox(_box).StatAsync("/w/nums.txt");
        Assert.Equal(3893, stat.SizeBytes);
        Assert.Equal(response.Headers.ETag.Tag, stat.ETag);
    }

    [Fact]
    public async Task Range_IfRange_IfNoneMatch_And416()
    {
        using var head = await fixture.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Download("/w/nums.txt")));
        string etag = head.Headers.ETag!.Tag;

        using var first = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        first.Headers.Range = new RangeHeaderValue(0, 9);
        using var partial = await fixture.Http.SendAsync(first);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal("bytes 0-9/3893", partial.Content.Headers.ContentRange!.ToString());
        Assert.Equal("1\n2\n3\n4\n5\n", await partial.Content.ReadAsStringAsync());

        using var suffix = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        suffix.Headers.Range = new RangeHeaderValue(null, 5);
        using var tail = await fixture.Http.SendAsync(suffix);
        Assert.Equal("1000\n", await tail.Content.ReadAsStringAsync());

        using var clamped = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        clamped.Headers.Range = new RangeHeaderValue(3890, 99999);
        using var clampedResponse = await fixture.Http.SendAsync(clamped);
        Assert.Equal("bytes 3890-3892/3893", clampedResponse.Content.Headers.ContentRange!.ToString());

        using var stale = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        stale.Headers.Range = new RangeHeaderValue(0, 9);
        stale.Headers.TryAddWithoutValidation("If-Range", "\"stale\"");
        using var whole = await fixture.Http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(3893, (await whole.Content.ReadAsByteArrayAsync()).Length);

        using var conditional = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        conditional.Headers.TryAddWithoutValidation("If-None-Match", etag);
        using var notModified = await fixture.Http.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var beyond = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        beyond.Headers.Range = new RangeHeaderValue(5000, null);
        using var unsatisfiable = await fixture.Http.SendAsync(beyond);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
        Assert.Equal("bytes */3893", unsatisfiable.Content.Headers.ContentRange!.ToString());

        var box = fixture.Client.GetSandbox(_box);
        var range = await box.ReadRangeAsync("/w/nums.txt", new RangeReadOptions { Start = 10, End = 13, IfRange = etag });
        Assert.True(range.Partial);
        Assert.Equal(10, range.Start);
        Assert.Equal("6\n7\n", Encoding.UTF8.GetString(range.Content));
        Assert.True((await box.ReadRangeAsync("/w/nums.txt", new RangeReadOptions { Start = 0, IfNoneMatch = etag })).Unchanged);
    }

    [Theory]
    [InlineData("bytes=5-1")]
    [InlineData("bytes=0-1,4-5")]
    [InlineData("items=0-1")]
    [InlineData("bytes=x-9")]
    public async Task MalformedOrMultipartRange_IsIgnored_AndTheWholeFileIsServed(string range)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        request.Headers.TryAddWithoutValidation("Range", range);
        using var response = await fixture.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentRange);
        Assert.Equal(3893, (await response.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task IfMatch_StaleETag_Is412_AndCurrentETagServesTheFile()
    {
        using var head = await fixture.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Download("/w/nums.txt")));
        string etag = head.Headers.ETag!.Tag;

        using var stale = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        stale.Headers.TryAddWithoutValidation("If-Match", "\"stale\"");
        using var refused = await fixture.Http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Empty(await refused.Content.ReadAsByteArrayAsync());

        using var current = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        current.Headers.TryAddWithoutValidation("If-Match", etag);
        current.Headers.Range = new RangeHeaderValue(0, 1);
        using var served = await fixture.Http.SendAsync(current);
        Assert.Equal(HttpStatusCode.PartialContent, served.StatusCode);
        Assert.Equal("1\n", await served.Content.ReadAsStringAsync());

        using var modifiedSince = new HttpRequestMessage(HttpMethod.Get, Download("/w/nums.txt"));
        modifiedSince.Headers.IfModifiedSince = head.Content.Headers.LastModified;
        using var notModified = await fixture.Http.SendAsync(modifiedSince);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(etag, notModified.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Glob_MatchesAtAnyDepth_AndLsListsDirectChildren()
    {
        var box = fixture.Client.GetSandbox(_box);
        var py = await box.GlobAsync("**/*.py", "/w");
        Assert.Equal(["/w/src/app.py", "/w/src/pkg/mod.py", "/w/top.py"], py.Matches.Select(m => m.Path).Order());
        Assert.False(py.Truncated);
        var ls = await box.ListAsync("/w");
        Assert.Equal(["/w/docs", "/w/nums.txt", "/w/src", "/w/top.py"], ls.Matches.Select(m => m.Path).Order());
        Assert.True(ls.Matches.Single(m => m.Path == "/w/src").IsDir);
        Assert.Equal(3893, ls.Matches.Single(m => m.Path == "/w/nums.txt").SizeBytes);
        var limited = await box.GlobAsync("**", "/w", limit: 2);
        Assert.Equal(2, limited.Matches.Count);
        Assert.True(limited.Truncated);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => box.GlobAsync("*", "/no/such/dir"));
    }

    [Fact]
    public async Task Grep_IsLiteral_OneBasedLines_WithGlobFilters()
    {
        var box = fixture.Client.GetSandbox(_box);
        var all = await box.GrepAsync("a.b", "/w");
        Assert.Equal(["/w/docs/readme.md:1", "/w/src/app.py:2"], all.Matches.Select(m => $"{m.Path}:{m.Line}").Order());
        Assert.Equal("a.b here", all.Matches.Single(m => m.Path == "/w/src/app.py").Text);
        var onlyPy = await box.GrepAsync("a.b", "/w", glob: "*.py");
        Assert.Equal(["/w/src/app.py"], onlyPy.Matches.Select(m => m.Path));
        var relative = await box.GrepAsync("x", "/w", glob: "src/**/*.py");
        Assert.Equal(["/w/src/app.py", "/w/src/pkg/mod.py"], relative.Matches.Select(m => m.Path).Distinct().Order());
        var limited = await box.GrepAsync("1", "/w/nums.txt".Replace("/nums.txt", "", StringComparison.Ordinal), glob: "nums.txt", limit: 3);
        Assert.Equal(3, limited.Matches.Count);
        Assert.True(limited.Truncated);
    }

    [Fact]
    public async Task Upload_CreatesParents_RelativePathsResolveFromHomeUser_AndMissingFilesAre404()
    {
        var box = fixture.Client.GetSandbox(_box);
        byte[] data = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
        await box.WriteFileAsync("deep/er/data.bin", data);
        Assert.Equal(data, await box.ReadFileAsync("/home/user/deep/er/data.bin"));
        Assert.Equal("300000\n", (await fixture.ExecAsync(_box.Id!, "stat -c %s /home/user/deep/er/data.bin")).Stdout);
        var missing = await Assert.ThrowsAsync<ResourceNotFoundException>(() => box.ReadFileAsync("/nope.txt"));
        Assert.Equal("file", missing.ResourceType);
        using var directory = await fixture.Http.GetAsync(Download("/w"));
        Assert.Equal(HttpStatusCode.BadRequest, directory.StatusCode);
        using var noPath = await fixture.Http.GetAsync($"/dp/{_box.Id}/download");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noPath.StatusCode);
    }

    [Fact]
    public async Task Upload_OverTheLimit_Is413()
    {
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => o.MaxUploadBytes = 1024 });
        using var http = new HttpClient { BaseAddress = server.LangSmithEndpoint };
        http.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);
        using var create = await http.PostAsJsonAsync("/v2/sandboxes/boxes", new { wait_for_ready = true });
        var info = (await create.Content.ReadFromJsonAsync<SandboxInfo>(SandboxJson.Options))!;
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[4096]), "file", "file" } };
        using var response = await http.PostAsync($"/dp/{info.Id}/upload?path=big.bin", form);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }
}
