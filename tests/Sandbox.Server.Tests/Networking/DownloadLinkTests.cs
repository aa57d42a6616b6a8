using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Networking;

public sealed class DownloadLinkTests : IAsyncLifetime
{
    private NetworkingTestServer _server = null!;
    private string _root = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await NetworkingTestServer.StartAsync();
        _root = Directory.CreateTempSubdirectory("dlbox-").FullName;
        Directory.CreateDirectory(Path.Combine(_root, "out"));
        await File.WriteAllTextAsync(Path.Combine(_root, "out", "report.csv"), "a,b\n1,2\n3,4\n");
        _server.Boxes.Add("dlbox", "files", null, _root);
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Link_WithoutExpiry_ServesGetHeadAndRange_WithoutCredentials()
    {
        var info = await MintAsync(new { path = "out/report.csv" });
        Assert.Null(info.ExpiresAt);
        Assert.StartsWith($"http://127.0.0.1:{_server.Port}/dl/", info.DownloadUrl, StringComparison.Ordinal);
        Assert.EndsWith(info.Token, info.DownloadUrl, StringComparison.Ordinal);

        using var anonymous = new HttpClient();
        using var get = await anonymous.GetAsync(info.DownloadUrl);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("a,b\n1,2\n3,4\n", await get.Content.ReadAsStringAsync());
        Assert.Equal("text/csv", get.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", get.Content.Headers.ContentDisposition!.DispositionType);
        Assert.Equal("report.csv", get.Content.Headers.ContentDisposition.FileName);

        using var head = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, info.DownloadUrl));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(12, head.Content.Headers.ContentLength);

        using var rangeRequest = new HttpRequestMessage(HttpMethod.Get, info.DownloadUrl);
        rangeRequest.Headers.Range = new RangeHeaderValue(4, 6);
        using var range = await anonymous.SendAsync(rangeRequest);
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal("1,2", await range.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Link_UsesMintedContentTypeAndDisposition_AndExpires()
    {
        var info = await MintAsync(new { path = "/out/report.csv", expires_in_seconds = 30, content_type = "text/plain", content_disposition = "inline" });
        Assert.NotNull(info.ExpiresAt);

        using var anonymous = new HttpClient();
        using (var get = await anonymous.GetAsync(info.DownloadUrl))
        {
            Assert.Equal("text/plain", get.Content.Headers.ContentType!.MediaType);
            Assert.Equal("inline", get.Content.Headers.ContentDisposition!.DispositionType);
        }

        _server.Time.Advance(TimeSpan.FromSeconds(31));
        using var expired = await anonymous.GetAsync(info.DownloadUrl);
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        Assert.Contains("expired", await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Link_IsPinnedToThePath_AndRefusesTamperingAndMissingFiles()
    {
        var info = await MintAsync(new { path = "out/missing.txt" });
        using var anonymous = new HttpClient();
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(info.DownloadUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(info.DownloadUrl[..^3] + "abc")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await anonymous.PostAsync(info.DownloadUrl, new StringContent(""))).StatusCode);
    }

    [Theory]
    [InlineData("""{"path":"a","expires_in_seconds":0}""", "expires_in_seconds")]
    [InlineData("""{"path":""}""", "path")]
    [InlineData("""{"path":"a","content_disposition":"open"}""", "content_disposition")]
    public async Task Mint_InvalidRequest_Returns422(string body, string field)
    {
        using var response = await _server.Client.PostAsync("/v2/sandboxes/boxes/files/download-url", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains(field, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mint_UnknownBox_Returns404()
    {
        using var response = await _server.Client.PostAsJsonAsync("/v2/sandboxes/boxes/none/download-url", new { path = "a" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private async Task<DownloadUrlInfo> MintAsync(object body)
    {
        using var response = await _server.Client.PostAsJsonAsync("/v2/sandboxes/boxes/files/download-url", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"expires_at\":", json, StringComparison.Ordinal);
        return System.Text.Json.JsonSerializer.Deserialize<DownloadUrlInfo>(json, SandboxJson.Options)!;
    }
}
