using System.Net;
using System.Net.Http.Json;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Api;

public sealed class SmokeTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Create_Execute_Upload_Download_Delete_ThroughRawApi()
    {
        var box = await fixture.CreateBoxAsync();
        Assert.Equal(SandboxStatus.Ready, box.Status);
        Assert.StartsWith(fixture.Server.LangSmithEndpoint.ToString().TrimEnd('/') + "/dp/", box.DataplaneUrl);

        var frames = await fixture.RunWsAsync(box.Id!, "echo hello; echo oops >&2; exit 3");
        Assert.Equal("started", frames[0].Type);
        Assert.True(frames[0].Pid > 0);
        Assert.Equal("hello\n", ServerFixture.Collect(frames, "stdout"));
        Assert.Equal("oops\n", ServerFixture.Collect(frames, "stderr"));
        Assert.Equal(3, frames[^1].ExitCode);

        using var form = new MultipartFormDataContent { { new ByteArrayContent([1, 2, 3, 0, 255]), "file", "file" } };
        using var upload = await fixture.Http.PostAsync($"/dp/{box.Id}/upload?path={Uri.EscapeDataString("/home/user/a/b/c.bin")}", form);
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        Assert.Equal(new byte[] { 1, 2, 3, 0, 255 }, await fixture.Http.GetByteArrayAsync($"/dp/{box.Id}/download?path=a%2Fb%2Fc.bin"));

        using var delete = await fixture.Http.DeleteAsync($"/v2/sandboxes/boxes/{box.Name}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var get = await fixture.Http.GetAsync($"/v2/sandboxes/boxes/{box.Name}");
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task Client_RunsCommandsAndFiles()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        var result = await box.RunAsync("python3 -c 'print(6*7)'");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("42\n", result.Stdout);
        await box.WriteFileAsync("notes/x.txt", "héllo"u8.ToArray());
        Assert.Equal("héllo", System.Text.Encoding.UTF8.GetString(await box.ReadFileAsync("/home/user/notes/x.txt")));
    }
}
