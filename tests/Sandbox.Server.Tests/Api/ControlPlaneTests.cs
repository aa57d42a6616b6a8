using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Api;

public sealed class ControlPlaneTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static async Task<JsonElement> DetailAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail");

    [Fact]
    public async Task Create_EchoesEveryOption_OnBothPrefixes()
    {
        string name = Unique("opts");
        var created = await fixture.CreateBoxAsync(new
        {
            wait_for_ready = true,
            name,
            idle_ttl_seconds = 120,
            delete_after_stop_seconds = 3600,
            vcpus = 1,
            mem_bytes = 256L * 1024 * 1024,
            fs_capacity_bytes = 128L * 1024 * 1024,
            labels = new Dictionary<string, string> { ["team"] = "ml" },
            run_config = new { work_dir = "/tmp", env_vars = new Dictionary<string, string> { ["A"] = "1" } },
            persistent = true,
        });
        Assert.Equal(name, created.Name);
        Assert.Equal("ready", created.Status);
        Assert.Equal(120, created.IdleTtlSeconds);
        Assert.Equal(3600, created.DeleteAfterStopSeconds);
        Assert.Equal(1, created.Vcpus);
        Assert.Equal(256L * 1024 * 1024, created.MemBytes);
        Assert.Equal(128L * 1024 * 1024, created.FsCapacityBytes);
        Assert.Equal("ml", created.Labels!["team"]);
        Assert.Equal("/tmp", created.RunConfig!.WorkDir);
        Assert.Null(created.UnenforcedLimits);

        var viaApiPrefix = await fixture.Http.GetFromJsonAsync<SandboxInfo>($"/api/v2/sandboxes/boxes/{name}", SandboxJson.Options);
        Assert.Equal(created.Id, viaApiPrefix!.Id);
        var run = await fixture.ExecAsync(created.Id!, "echo $A; pwd; nproc; cat /proc/self/cgroup >/dev/null; echo ok");
        Assert.StartsWith("1\n/tmp\n", run.Stdout, StringComparison.Ordinal);
        await fixture.DeleteBoxAsync(name);
    }

    [Fact]
    public async Task List_FiltersByNameStatusAndLabel_AndPages()
    {
        string prefix = Unique("list");
        await fixture.CreateBoxAsync(new { wait_for_ready = true, name = prefix + "-a", labels = new Dictionary<string, string> { ["k"] = "v" } });
        await fixture.CreateBoxAsync(new { wait_for_ready = true, name = prefix + "-b" });
        var all = await fixture.Http.GetFromJsonAsync<SandboxList>($"/v2/sandboxes/boxes?name_contains={prefix}", SandboxJson.Options);
        Assert.Equal([prefix + "-a", prefix + "-b"], all!.Sandboxes.Select(s => s.Name).Order());
        var labelled = await fixture.Http.GetFromJsonAsync<SandboxList>($"/api/v2/sandboxes/boxes?name_contains={prefix}&label=k=v", SandboxJson.Options);
        Assert.Equal([prefix + "-a"], labelled!.Sandboxes.Select(s => s.Name));
        var page = await fixture.Http.GetFromJsonAsync<SandboxList>($"/v2/sandboxes/boxes?name_contains={prefix}&sort_by=name&limit=1&offset=1", SandboxJson.Options);
        Assert.Equal([prefix + "-b"], page!.Sandboxes.Select(s => s.Name));
        Assert.Equal(1, page.Offset);
        var stopped = await fixture.Http.GetFromJsonAsync<SandboxList>($"/v2/sandboxes/boxes?name_contains={prefix}&status=stopped", SandboxJson.Options);
        Assert.Empty(stopped!.Sandboxes);
        var listed = await fixture.Client.ListSandboxesAsync();
        Assert.Contains(listed, s => s.Name == prefix + "-a");
        await fixture.DeleteBoxAsync(prefix + "-a");
        await fixture.DeleteBoxAsync(prefix + "-b");
    }

    [Fact]
    public async Task Update_RenamesAndMergesRunConfig_AndRenameToATakenNameIsAConflict()
    {
        string a = Unique("upd"), b = Unique("upd"), renamed = Unique("renamed");
        await fixture.Client.CreateSandboxAsync(new CreateSandboxOptions { Name = a, RunConfig = new RunConfig { EnvVars = new Dictionary<string, string> { ["A"] = "1" } } });
        await fixture.CreateBoxAsync(new { wait_for_ready = true, name = b });
        var conflict = await Assert.ThrowsAsync<ResourceNameConflictException>(() => fixture.Client.UpdateSandboxAsync(a, new UpdateSandboxOptions { Name = b }));
        Assert.Contains(b, conflict.Message, StringComparison.Ordinal);

        using var empty = await fixture.Http.PatchAsJsonAsync($"/v2/sandboxes/boxes/{a}", new { });
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        var info = await fixture.Client.UpdateSandboxAsync(a, new UpdateSandboxOptions
        {
            Name = renamed,
            IdleTtl = TimeSpan.FromMinutes(5),
            RunConfig = new RunConfig { EnvVars = new Dictionary<string, string> { ["B"] = "2" } },
        });
        Assert.Equal(renamed, info.Name);
        Assert.Equal(300, info.IdleTtlSeconds);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => fixture.Client.GetSandboxAsync(a));
        var box = await fixture.Client.GetSandboxAsync(renamed);
        Assert.Equal("1 2\n", (await box.RunAsync("echo $A $B")).Stdout);
        await fixture.DeleteBoxAsync(renamed);
        await fixture.DeleteBoxAsync(b);
    }

    [Fact]
    public async Task UnknownBox_Is404WithTheSpecMessage_OnEveryBoxEndpoint()
    {
        string name = Unique("missing");
        foreach (var (method, path) in new[] { ("GET", ""), ("GET", "/status"), ("DELETE", ""), ("PATCH", ""), ("POST", "/start"), ("POST", "/stop"), ("POST", "/snapshot") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), $"/v2/sandboxes/boxes/{name}{path}") { Content = new StringContent("{\"name\":\"x\"}", Encoding.UTF8, "application/json") };
            using var response = await fixture.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal($"Sandbox '{name}' not found", (await DetailAsync(response)).GetProperty("message").GetString());
        }

        var typed = await Assert.ThrowsAsync<ResourceNotFoundException>(() => fixture.Client.GetSandboxAsync(name));
        Assert.Equal("sandbox", typed.ResourceType);
        using var dp = await fixture.Http.PostAsJsonAsync($"/dp/{name}/execute", new { command = "true" });
        Assert.Equal(HttpStatusCode.NotFound, dp.StatusCode);
    }

    [Fact]
    public async Task ApiKey_IsRequiredOnEveryCall_HeaderNameCaseInsensitive()
    {
        using var anonymous = new HttpClient { BaseAddress = fixture.Server.LangSmithEndpoint };
        foreach (string path in (string[])["/v2/sandboxes/boxes", "/api/v2/sandboxes/snapshots", "/dp/x/download?path=a"])
        {
            using var response = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/v2/sandboxes/boxes");
        wrong.Headers.Add("X-Api-Key", "wrong");
        using var wrongResponse = await anonymous.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.DoesNotContain(fixture.Server.ApiKey, await wrongResponse.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var lower = new HttpRequestMessage(HttpMethod.Get, "/v2/sandboxes/boxes");
        lower.Headers.TryAddWithoutValidation("x-API-key", fixture.Server.ApiKey);
        using var ok = await anonymous.SendAsync(lower);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        using var badClient = fixture.Server.CreateClient(o => o.ApiKey = "nope");
        await Assert.ThrowsAsync<SandboxAuthenticationException>(() => badClient.ListSandboxesAsync());
    }

    [Fact]
    public async Task BadInput_GetsClearErrors()
    {
        using var malformed = await fixture.Http.PostAsync("/v2/sandboxes/boxes", new StringContent("{\"name\": ", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, malformed.StatusCode);
        Assert.Equal("value_error", (await DetailAsync(malformed))[0].GetProperty("type").GetString());

        using var wrongType = await fixture.Http.PostAsync("/v2/sandboxes/boxes", new StringContent("{\"vcpus\": \"two\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, wrongType.StatusCode);
        Assert.Equal("vcpus", (await DetailAsync(wrongType))[0].GetProperty("loc")[1].GetString());

        using var huge = await fixture.Http.PostAsync("/v2/sandboxes/boxes", new StringContent("{\"name\":\"" + new string('a', 2_000_000) + "\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);

        foreach (var (body, field) in new (object, string)[]
        {
            (new { mount_config = new { auth = new { }, mounts = new[] { new { id = "m", type = "s3", mount_path = "/mnt/mounts/x" } } } }, "mount_config"),
            (new { restore_memory = true }, "restore_memory"),
            (new { preserve_memory_on_stop = true }, "preserve_memory_on_stop"),
            (new { access_delegation = new { mode = "INHERIT" } }, "access_delegation"),
            (new { snapshot_id = "a", snapshot_name = "b" }, "snapshot_id"),
            (new { idle_ttl_seconds = 61 }, "idle_ttl_seconds"),
            (new { run_config = new { work_dir = "relative" } }, "run_config"),
            (new { name = "bad/name" }, "name"),
        })
        {
            using var response = await fixture.Http.PostAsJsonAsync("/v2/sandboxes/boxes", body);
            Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
            var detail = await DetailAsync(response);
            Assert.Equal(field, detail[0].GetProperty("loc")[1].GetString());
            Assert.Equal("value_error", detail[0].GetProperty("type").GetString());
        }

        var validation = await Assert.ThrowsAsync<SandboxValidationException>(() => fixture.Client.CreateSandboxAsync(new CreateSandboxOptions { RestoreMemory = true }));
        Assert.Equal("restore_memory", validation.Field);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => fixture.Client.CreateSandboxAsync(new CreateSandboxOptions { SnapshotName = "no-such-snapshot" }));
    }

    [Fact]
    public async Task DuplicateName_OnCreate_IsAConflict()
    {
        string name = Unique("dup");
        await fixture.CreateBoxAsync(new { wait_for_ready = true, name });
        using var again = await fixture.Http.PostAsJsonAsync("/v2/sandboxes/boxes", new { wait_for_ready = true, name });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        await fixture.DeleteBoxAsync(name);
    }

    [Fact]
    public async Task StopStart_KeepFiles_AndTheDataPlaneResumesAStoppedBox()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        await box.WriteFileAsync("/home/user/keep.txt", "kept");
        await box.RunAsync("echo sys > /usr/local/marker");
        await box.StopAsync();
        var status = await fixture.Client.GetSandboxStatusAsync(box.Name);
        Assert.Equal("stopped", status.Status);
        var stoppedInfo = await fixture.Client.GetSandboxAsync(box.Name);
        Assert.NotNull(stoppedInfo.Info.StoppedAt);

        var started = await fixture.Client.StartSandboxAsync(box.Name);
        Assert.Equal("ready", started.Status);
        Assert.Equal("kept", (await box.RunAsync("cat /home/user/keep.txt")).Stdout);
        Assert.Equal("sys\n", (await box.RunAsync("cat /usr/local/marker")).Stdout);

        await box.StopAsync();
        Assert.Equal("kept", Encoding.UTF8.GetString(await box.ReadFileAsync("keep.txt")));
        Assert.Equal("ready", (await fixture.Client.GetSandboxStatusAsync(box.Name)).Status);
    }

    [Fact]
    public async Task CreateWithoutWaiting_ReturnsProvisioning_ThenBecomesReady()
    {
        using var response = await fixture.Http.PostAsJsonAsync("/v2/sandboxes/boxes", new { wait_for_ready = false });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var info = (await response.Content.ReadFromJsonAsync<SandboxInfo>(SandboxJson.Options))!;
        Assert.Contains(info.Status, new[] { "provisioning", "ready" });
        var ready = await fixture.Client.WaitForSandboxAsync(info.Name, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        Assert.Equal("ready", ready.Status);
        await fixture.DeleteBoxAsync(info.Name);
    }

    [Fact]
    public async Task NonPersistentBox_StartsFreshAfterStop()
    {
        var info = await fixture.CreateBoxAsync(new { wait_for_ready = true, persistent = false });
        await fixture.ExecAsync(info.Id!, "echo x > /home/user/tmp.txt");
        using (await fixture.Http.PostAsJsonAsync($"/v2/sandboxes/boxes/{info.Name}/stop", new { }))
        {
        }

        var after = await fixture.ExecAsync(info.Id!, "cat /home/user/tmp.txt 2>&1 || echo gone");
        Assert.Contains("gone", after.Stdout, StringComparison.Ordinal);
        await fixture.DeleteBoxAsync(info.Name);
    }

    [Fact]
    public async Task RequestedLimits_AreWrittenToTheBoxCgroups_AlsoForWarmBoxes()
    {
        foreach (var (mem, vcpus) in new[] { (256L * 1024 * 1024, 1), (512L * 1024 * 1024, 3) })
        {
            var box = await fixture.CreateBoxAsync(new { wait_for_ready = true, mem_bytes = mem, vcpus });
            string owner = Sandbox.Server.Runtime.CgroupController.OwnerGroup;
            if (Directory.Exists("/sys/fs/cgroup/memory/sandbox-server"))
            {
                Assert.Equal(mem.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText($"/sys/fs/cgroup/memory/sandbox-server/{owner}/{box.Id}/memory.limit_in_bytes").Trim());
                Assert.Equal((vcpus * 100000).ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText($"/sys/fs/cgroup/cpu/sandbox-server/{owner}/{box.Id}/cpu.cfs_quota_us").Trim());
            }

            Assert.Equal("ok\n", (await fixture.ExecAsync(box.Id!, "echo ok")).Stdout);
            await fixture.DeleteBoxAsync(box.Name);
        }
    }
}
