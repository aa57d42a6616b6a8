using System.Net.Http.Json;
using Sandbox.Protocol;
using Sandbox.Server.Tests.Networking;
using Sandbox.Tests.Common;

namespace Sandbox.Server.Tests.Runtime;

public sealed class LifecycleTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("sandbox-durability-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static HttpClient Http(LocalSandboxServer server)
    {
        var http = new HttpClient { BaseAddress = server.LangSmithEndpoint };
        http.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);
        return http;
    }

    [Fact]
    public async Task BoxesAndFiles_SurviveARestart_AndComeBackStopped()
    {
        string name;
        await using (var first = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { DataDirectory = _data, ApiKey = "k" }))
        {
            using var client = first.CreateClient();
            var box = await client.CreateSandboxAsync(new Sandbox.Client.CreateSandboxOptions { Labels = new Dictionary<string, string> { ["keep"] = "yes" } });
            name = box.Name;
            await box.WriteFileAsync("/home/user/durable.txt", "still here");
        }

        Assert.True(Directory.Exists(_data));
        await using var second = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { DataDirectory = _data, ApiKey = "k" });
        using var http = Http(second);
        var list = await http.GetFromJsonAsync<SandboxList>("/v2/sandboxes/boxes", SandboxJson.Options);
        var info = Assert.Single(list!.Sandboxes);
        Assert.Equal(name, info.Name);
        Assert.Equal("stopped", info.Status);
        Assert.Contains("sandbox server", info.StatusMessage ?? "", StringComparison.OrdinalIgnoreCase);
        Assert.Equal("yes", info.Labels!["keep"]);

        using var client2 = second.CreateClient();
        var started = await client2.StartSandboxAsync(name);
        Assert.Equal("ready", started.Status);
        var again = await client2.GetSandboxAsync(name);
        Assert.Equal("still here", (await again.RunAsync("cat /home/user/durable.txt")).Stdout);
    }

    [Fact]
    public async Task DataDirectory_WithSpacesAndHash_StillMountsTheBoxFilesystem()
    {
        // The overlays are mounted from an fstab, where whitespace and '#' must be escaped.
        string data = Path.Combine(_data, "my data #1");
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { DataDirectory = data, ApiKey = "k" });
        using var client = server.CreateClient();
        var box = await client.CreateSandboxAsync();
        await box.WriteFileAsync("/home/user/kept.txt", "written");
        var result = await box.RunAsync("cat /home/user/kept.txt && test -x /usr/bin/env");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("written", result.Stdout);
        // The box's writable layer: on its own disk image (the default disk cap), or a folder when no cap applies.
        Assert.True(File.Exists(Path.Combine(data, "boxes", box.Info.Id!, "disk.img")) || Directory.Exists(Path.Combine(data, "boxes", box.Info.Id!, "disk", "up")));
    }

    [Fact]
    public async Task IdleBoxes_AreStopped_AndStoppedBoxes_AreDeletedAfterTheirRetention()
    {
        var clock = new FakeUtcClock(DateTimeOffset.UtcNow);
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions
        {
            TimeProvider = clock,
            Configure = o => o.SweepInterval = TimeSpan.FromMilliseconds(50),
        });
        using var http = Http(server);
        using var create = await http.PostAsJsonAsync("/v2/sandboxes/boxes", new { wait_for_ready = true, idle_ttl_seconds = 60, delete_after_stop_seconds = 120 });
        var info = (await create.Content.ReadFromJsonAsync<SandboxInfo>(SandboxJson.Options))!;
        using var busy = await http.PostAsJsonAsync("/v2/sandboxes/boxes", new { wait_for_ready = true, idle_ttl_seconds = 0 });
        var keeper = (await busy.Content.ReadFromJsonAsync<SandboxInfo>(SandboxJson.Options))!;

        clock.Advance(TimeSpan.FromSeconds(30));
        await Task.Delay(300);
        Assert.Equal("ready", await StatusAsync(http, info.Name));

        clock.Advance(TimeSpan.FromSeconds(31));
        await WaitForAsync(async () => await StatusAsync(http, info.Name) == "stopped");
        var status = await http.GetFromJsonAsync<SandboxStatusInfo>($"/v2/sandboxes/boxes/{info.Name}/status", SandboxJson.Options);
        Assert.Contains("idle", status!.StatusMessage, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("ready", await StatusAsync(http, keeper.Name));

        clock.Advance(TimeSpan.FromSeconds(121));
        await WaitForAsync(async () => await StatusAsync(http, info.Name) == "gone");
        Assert.Equal("ready", await StatusAsync(http, keeper.Name));
    }

    private static async Task<string> StatusAsync(HttpClient http, string name)
    {
        using var response = await http.GetAsync($"/v2/sandboxes/boxes/{name}/status");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return "gone";
        }

        return (await response.Content.ReadFromJsonAsync<SandboxStatusInfo>(SandboxJson.Options))!.Status;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(50);
        }
    }
}
