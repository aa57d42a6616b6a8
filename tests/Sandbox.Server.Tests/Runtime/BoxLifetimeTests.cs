using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Protocol;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Tests.Runtime;

/// <summary>Boxes live until they are stopped, die with the server, and what a dead server left is cleaned up.</summary>
public sealed class BoxLifetimeTests
{
    private const string CgroupPids = "/sys/fs/cgroup/pids";

    private static async Task<List<Box>> CreateBoxesAsync(BoxManager manager, int count) =>
        [.. await Task.WhenAll(Enumerable.Range(0, count).Select(_ => manager.CreateAsync(new BoxCreateParameters { WaitForReady = true }, CancellationToken.None)))];

    private static async Task AssertAliveAsync(BoxManager manager, IEnumerable<Box> boxes, string when)
    {
        foreach (var box in boxes)
        {
            Assert.True(box.Running is { HasExited: false }, $"box {box.Id} died {when}: {box.Record.StatusMessage}");
            Assert.Equal(SandboxStatus.Ready, box.Record.Status);
            var running = await manager.EnsureRunningAsync(box, CancellationToken.None);
            Assert.True(Process.GetProcessById(running.InitPid) is { HasExited: false }, $"init of {box.Id} is gone {when}");
        }
    }

    [Fact]
    public async Task BoxesStartedFromThreadsThatExit_KeepRunning()
    {
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => o.WarmBoxes = 0 });
        var manager = server.Services.GetRequiredService<BoxManager>();
        var starts = new List<Task<Box>>();
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            var start = manager.CreateAsync(new BoxCreateParameters { WaitForReady = true }, CancellationToken.None);
            lock (starts)
            {
                starts.Add(start);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join()); // every thread that kicked off a start has exited
        var boxes = await Task.WhenAll(starts);
        await Task.Delay(TimeSpan.FromSeconds(3));
        await AssertAliveAsync(manager, boxes, "after the threads that started them exited");
        using var http = Http(server);
        foreach (var box in boxes)
        {
            Assert.Equal("ok\n", (await Execute(http, box.Id, "echo ok")).Stdout);
        }
    }

    [Fact]
    public async Task IdleBoxes_SurviveMinutesOfThreadPoolChurn()
    {
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => o.WarmBoxes = 0 });
        var manager = server.Services.GetRequiredService<BoxManager>();
        ThreadPool.GetMinThreads(out int workers, out int io);
        List<Box> boxes;
        try
        {
            // Boxes started while the pool is swollen are started from threads the pool retires a little later.
            ThreadPool.SetMinThreads(Math.Max(workers, 96), io);
            var burst = Burst(80, TimeSpan.FromMilliseconds(500));
            boxes = await CreateBoxesAsync(manager, 12);
            await burst;
        }
        finally
        {
            ThreadPool.SetMinThreads(workers, io);
        }

        // The pool retires a worker after 20 s idle: each round swells it and lets it shrink back.
        var churnUntil = DateTime.UtcNow + TimeSpan.FromSeconds(140);
        int rounds = 0;
        while (DateTime.UtcNow < churnUntil)
        {
            ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
            try
            {
                await Burst(60, TimeSpan.FromMilliseconds(200));
            }
            finally
            {
                ThreadPool.SetMinThreads(workers, io);
            }

            rounds++;
            await Task.Delay(TimeSpan.FromSeconds(25));
            await AssertAliveAsync(manager, boxes, $"after {rounds} rounds of thread-pool churn");
        }

        using var http = Http(server);
        foreach (var box in boxes)
        {
            Assert.Equal("alive\n", (await Execute(http, box.Id, "echo alive")).Stdout);
        }
    }

    [Fact]
    public async Task ServerKilledWithSigkill_TakesItsBoxesAlong_AndTheNextServerRemovesItsCgroups()
    {
        Assert.True(Directory.Exists(CgroupPids), "this test needs the cgroup v1 pids hierarchy");
        string data = Directory.CreateTempSubdirectory("sandbox-killed-").FullName;
        using var sleeper = Process.Start("sleep", "600");
        try
        {
            using var server = StartStandalone(data, out var endpoint);
            using var http = new HttpClient { BaseAddress = endpoint };
            http.DefaultRequestHeaders.Add("X-Api-Key", "k");
            for (int i = 0; i < 2; i++)
            {
                using var created = await http.PostAsJsonAsync("/v2/sandboxes/boxes", new { wait_for_ready = true, fs_capacity_bytes = i == 0 ? 64L << 20 : (long?)null });
                Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
            }

            string owner = Path.Combine(CgroupPids, CgroupController.RootGroup, "server-" + CgroupController.OwnerTag(server.Id));
            var boxPids = ProcessesIn(owner);
            Assert.True(boxPids.Count >= 4, $"expected the init processes of two boxes in {owner}");
            Assert.NotEmpty(LoopDevicesUnder(data));

            server.Kill();
            await server.WaitForExitAsync();
            await WaitUntilAsync(() => boxPids.All(p => !File.Exists($"/proc/{p}/stat")), "the boxes' processes to die with the server");
            await WaitUntilAsync(() => LoopDevicesUnder(data).Count == 0, "the loop devices of the boxes to be released");
            Assert.True(Directory.Exists(owner), "the dead server's groups are left for the next server");

            // A group of a live server (this test's sleep process) and its process stay; the dead server's groups go.
            string live = Path.Combine(CgroupPids, CgroupController.RootGroup, "server-" + CgroupController.OwnerTag(sleeper.Id), "box");
            Directory.CreateDirectory(live);
            File.WriteAllText(Path.Combine(live, "cgroup.procs"), sleeper.Id.ToString(CultureInfo.InvariantCulture));
            using (var straggler = Process.Start("sleep", "600"))
            {
                string stale = Path.Combine(owner, "straggler");
                Directory.CreateDirectory(stale);
                File.WriteAllText(Path.Combine(stale, "cgroup.procs"), straggler.Id.ToString(CultureInfo.InvariantCulture));
                await using (await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => o.WarmBoxes = 0 }))
                {
                    Assert.False(Directory.Exists(owner), "the next server removes every group of the dead one");
                    Assert.True(straggler.WaitForExit(5000), "a process left in a dead server's group is killed");
                    Assert.True(Directory.Exists(live), "a live server's group is never touched");
                    Assert.False(sleeper.HasExited);
                }
            }

            File.WriteAllText(Path.Combine(CgroupPids, "cgroup.procs"), sleeper.Id.ToString(CultureInfo.InvariantCulture));
            Directory.Delete(live);
            Directory.Delete(Path.GetDirectoryName(live)!);
        }
        finally
        {
            sleeper.Kill();
            Directory.Delete(data, recursive: true);
        }
    }

    private static Process StartStandalone(string data, out Uri endpoint)
    {
        string dll = typeof(LocalSandboxServer).Assembly.Location;
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])[dll, "--urls", "http://127.0.0.1:0", "--data-dir", data])
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment["SANDBOX_SERVER_API_KEY"] = "k";
        psi.Environment["SandboxServer__WarmBoxes"] = "0";
        var process = Process.Start(psi)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            string line = process.StandardOutput.ReadLineAsync(cts.Token).AsTask().GetAwaiter().GetResult()
                ?? throw new InvalidOperationException("the server exited: " + process.StandardError.ReadToEnd());
            const string Prefix = "Sandbox server listening on ";
            if (line.StartsWith(Prefix, StringComparison.Ordinal))
            {
                endpoint = new Uri(line[Prefix.Length..].Trim() + "/");
                _ = process.StandardOutput.ReadToEndAsync();
                _ = process.StandardError.ReadToEndAsync();
                return process;
            }
        }
    }

    private static List<int> ProcessesIn(string group) =>
        [.. Directory.GetFiles(group, "cgroup.procs", SearchOption.AllDirectories)
            .SelectMany(File.ReadAllLines)
            .Select(l => int.Parse(l, CultureInfo.InvariantCulture))];

    private static List<string> LoopDevicesUnder(string data) =>
        [.. Directory.GetDirectories("/sys/block", "loop*")
            .Select(d => Path.Combine(d, "loop", "backing_file"))
            .Where(File.Exists)
            .Select(f => File.ReadAllText(f).Trim())
            .Where(f => f.StartsWith(data, StringComparison.Ordinal))];

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(100);
        }
    }

    private static Task Burst(int items, TimeSpan each) =>
        Task.WhenAll(Enumerable.Range(0, items).Select(_ => Task.Run(() => Thread.Sleep(each))));

    private static HttpClient Http(LocalSandboxServer server)
    {
        var http = new HttpClient { BaseAddress = server.LangSmithEndpoint };
        http.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);
        return http;
    }

    private static async Task<ExecuteResponse> Execute(HttpClient http, string boxId, string command)
    {
        using var response = await http.PostAsJsonAsync($"/dp/{boxId}/execute", new { command, timeout = 30 });
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonSerializer.Deserialize<ExecuteResponse>(text, SandboxJson.Options)!;
    }
}
