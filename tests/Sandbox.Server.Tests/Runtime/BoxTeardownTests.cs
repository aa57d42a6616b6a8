using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Protocol;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Tests.Runtime;

/// <summary>
/// Deleting a box answers once the box is unreachable; its teardown (processes reaped, cgroups, loop disk, folder)
/// finishes in the background, a shutdown waits for it, and a restart removes what a killed server left.
/// </summary>
public sealed class BoxTeardownTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("sandbox-teardown-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task Delete_KillsTheBoxAtOnce_FreesTheName_AndShutdownFinishesTheTeardown()
    {
        var boxIds = new List<string>();
        var boxProcesses = new List<int>();
        await using (var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { DataDirectory = _data, ApiKey = "k", Configure = o => o.WarmBoxes = 0 }))
        {
            using var http = Http(server);
            for (int i = 0; i < 3; i++)
            {
                var info = await CreateAsync(http, $"doomed-{i}");
                boxIds.Add(info.Id!);
                // Some files to remove, and a command still running when the delete comes.
                await ExecuteAsync(http, info.Id!, "mkdir -p /home/user/t && cd /home/user/t && mkdir -p $(seq -f 'd%g/e' 500) && (sleep 900 &) && echo ok");
                boxProcesses.AddRange(ProcessesOf(info.Id!));
            }

            Assert.True(boxProcesses.Count >= 6, "expected the boxes' processes in their pids groups");
            var running = http.PostAsJsonAsync($"/dp/{boxIds[0]}/execute", new { command = "sleep 600", timeout = 600 });
            await Task.Delay(500);

            for (int i = 0; i < 3; i++)
            {
                var stopwatch = Stopwatch.StartNew();
                using var deleted = await http.DeleteAsync($"/v2/sandboxes/boxes/doomed-{i}");
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
                Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"delete took {stopwatch.Elapsed}");
                Console.WriteLine($"delete {i} answered in {stopwatch.Elapsed.TotalMilliseconds:F0} ms");

                // Gone from the API at once, and the name is free.
                using var get = await http.GetAsync($"/v2/sandboxes/boxes/doomed-{i}");
                Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
                using var again = await http.DeleteAsync($"/v2/sandboxes/boxes/doomed-{i}");
                Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
            }

            // The running command ends (its box was killed), and every process of the boxes is gone soon after.
            using (var ended = await running.WaitAsync(TimeSpan.FromSeconds(30)))
            {
                string body = await ended.Content.ReadAsStringAsync();
                Assert.False(ended.IsSuccessStatusCode && body.Contains("\"exit_code\":0", StringComparison.Ordinal), $"the command in the deleted box ended normally: {body}");
            }

            await WaitUntilAsync(() => boxProcesses.All(p => !Alive(p)), "the deleted boxes' processes to die", TimeSpan.FromSeconds(15));
            var reused = await CreateAsync(http, "doomed-0");
            Assert.NotEqual(boxIds[0], reused.Id);
            Assert.Equal("fresh\n", (await ExecuteAsync(http, reused.Id!, "test -e /home/user/t && echo old || echo fresh")).Stdout);
            boxIds.Add(reused.Id!);
            using var last = await http.DeleteAsync("/v2/sandboxes/boxes/doomed-0");
            Assert.Equal(HttpStatusCode.NoContent, last.StatusCode);
            // Disposing right after the deletes: the shutdown waits for the pending teardowns.
        }

        foreach (string id in boxIds)
        {
            Assert.False(Directory.Exists(Path.Combine(_data, "boxes", id)), $"box {id}'s folder stayed after shutdown");
        }

        Assert.Empty(LoopDevicesUnder(_data));
        Assert.Empty(CgroupsNamed(boxIds));
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(_data, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Restart_RemovesBoxesAKilledServerWasDeleting_AndUnclaimedWarmBoxFolders()
    {
        string id;
        await using (var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { DataDirectory = _data, ApiKey = "k", Configure = o => o.WarmBoxes = 0 }))
        {
            using var http = Http(server);
            var info = await CreateAsync(http, "half-deleted");
            id = info.Id!;
            await ExecuteAsync(http, id, "mkdir -p /home/user/a/b/c && echo x > /home/user/a/b/c/f && echo ok");
        }

        // A server killed right after it marked the box deleting (before its folder was removed) leaves this behind.
        string meta = Path.Combine(_data, "boxes", id, "box.json");
        var record = AtomicFile.ReadJson<BoxRecord>(meta)!;
        record.Status = SandboxStatus.Deleting;
        AtomicFile.WriteJson(meta, record);
        string warm = Path.Combine(_data, "boxes", Guid.NewGuid().ToString());
        Directory.CreateDirectory(Path.Combine(warm, "disk", "up", "root"));

        await using (var restarted = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { DataDirectory = _data, ApiKey = "k", Configure = o => o.WarmBoxes = 0 }))
        {
            using var http = Http(restarted);
            using var get = await http.GetAsync("/v2/sandboxes/boxes/half-deleted");
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
            var list = await http.GetFromJsonAsync<SandboxList>("/v2/sandboxes/boxes", SandboxJson.Options);
            Assert.Empty(list!.Sandboxes);
            await restarted.Services.GetRequiredService<BoxManager>().WhenTeardownsDoneAsync().WaitAsync(TimeSpan.FromMinutes(2));
            Assert.False(Directory.Exists(Path.Combine(_data, "boxes", id)), "the half-deleted box's folder stayed");
            Assert.False(Directory.Exists(warm), "the unclaimed warm box's folder stayed");
            // The name is free again.
            Assert.NotEqual(id, (await CreateAsync(http, "half-deleted")).Id);
        }
    }

    private static HttpClient Http(LocalSandboxServer server)
    {
        var http = new HttpClient { BaseAddress = server.LangSmithEndpoint, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);
        return http;
    }

    private static async Task<SandboxInfo> CreateAsync(HttpClient http, string name)
    {
        using var response = await http.PostAsJsonAsync("/v2/sandboxes/boxes", new { name, wait_for_ready = true });
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return System.Text.Json.JsonSerializer.Deserialize<SandboxInfo>(text, SandboxJson.Options)!;
    }

    private static async Task<ExecuteResponse> ExecuteAsync(HttpClient http, string boxId, string command)
    {
        using var response = await http.PostAsJsonAsync($"/dp/{boxId}/execute", new { command, timeout = 60 });
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return System.Text.Json.JsonSerializer.Deserialize<ExecuteResponse>(text, SandboxJson.Options)!;
    }

    /// <summary>Host pids in the box's groups (any hierarchy that has them).</summary>
    private static List<int> ProcessesOf(string boxId) =>
        [.. CgroupsNamed([boxId])
            .SelectMany(g => Directory.GetFiles(g, "cgroup.procs", SearchOption.AllDirectories))
            .SelectMany(File.ReadAllLines)
            .Select(l => int.Parse(l, CultureInfo.InvariantCulture))
            .Distinct()];

    private static bool Alive(int pid)
    {
        try
        {
            // A zombie waiting to be reaped is dead for this purpose.
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static List<string> LoopDevicesUnder(string data) =>
        [.. Directory.GetDirectories("/sys/block", "loop*")
            .Select(d => Path.Combine(d, "loop", "backing_file"))
            .Where(File.Exists)
            .Select(f => File.ReadAllText(f).Trim())
            .Where(f => f.StartsWith(data, StringComparison.Ordinal))];

    /// <summary>Cgroup directories of this server layout (any hierarchy) named after one of the boxes.</summary>
    private static List<string> CgroupsNamed(IReadOnlyCollection<string> boxIds)
    {
        var found = new List<string>();
        foreach (string root in new[] { "/sys/fs/cgroup" }.Concat(Directory.GetDirectories("/sys/fs/cgroup")))
        {
            string servers = Path.Combine(root, CgroupController.RootGroup);
            if (!Directory.Exists(servers))
            {
                continue;
            }

            foreach (string owner in Directory.GetDirectories(servers))
            {
                found.AddRange(boxIds.Select(id => Path.Combine(owner, id)).Where(Directory.Exists));
            }
        }

        return found;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(100);
        }
    }
}
