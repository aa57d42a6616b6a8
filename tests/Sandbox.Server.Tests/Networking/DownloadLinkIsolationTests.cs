using System.Net;

namespace Sandbox.Server.Tests.Networking;

/// <summary>Download links against the real box runtime: the file served is always the box's, never the host's.</summary>
public sealed class DownloadLinkIsolationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task DownloadLink_WhenHostHasFileAtSamePath_ServesTheBoxFile()
    {
        string probe = $"/home/user/download-isolation-{Guid.NewGuid():N}.txt";
        Directory.CreateDirectory("/home/user");
        await File.WriteAllTextAsync(probe, "HOST FILE - must never be served");
        try
        {
            await using var box = await fixture.Client.CreateSandboxAsync();
            await box.WriteFileAsync(probe, "box file"u8.ToArray());
            var link = await fixture.Client.CreateDownloadUrlAsync(box.Name, probe);

            using var anonymous = new HttpClient();
            using var whole = await anonymous.GetAsync(link.DownloadUrl);
            Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
            Assert.Equal("box file", await whole.Content.ReadAsStringAsync());

            using var ranged = new HttpRequestMessage(HttpMethod.Get, link.DownloadUrl);
            ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1, 3);
            using var part = await anonymous.SendAsync(ranged);
            Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
            Assert.Equal("ox ", await part.Content.ReadAsStringAsync());
        }
        finally
        {
            File.Delete(probe);
        }
    }

    [Fact]
    public async Task DownloadLink_WhenOnlyTheHostHasTheFile_IsNotFound()
    {
        string probe = $"/home/user/download-isolation-{Guid.NewGuid():N}.txt";
        Directory.CreateDirectory("/home/user");
        await File.WriteAllTextAsync(probe, "HOST FILE - must never be served");
        try
        {
            await using var box = await fixture.Client.CreateSandboxAsync();
            var link = await fixture.Client.CreateDownloadUrlAsync(box.Name, probe);

            using var anonymous = new HttpClient();
            using var response = await anonymous.GetAsync(link.DownloadUrl);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain("HOST FILE", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(probe);
        }
    }
}
