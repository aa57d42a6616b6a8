using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Client;

namespace Sandbox.Server.Tests.Runtime;

/// <summary>Runs alone: it counts the test process's descriptors, threads and child processes.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerLoadCollection
{
    public const string Name = "Server load (runs alone)";
}

/// <summary>
/// Many boxes and commands against one server (all on loopback), then checks that nothing grew or stayed behind:
/// processes, mounts, loop devices, cgroups, descriptors and threads.
/// </summary>
[Collection(ServerLoadCollection.Name)]
public sealed class LoadTests
{
    [Fact]
    public async Task FiftyBoxesTimesTwentyCommandsWithFiles_ZeroWrongResults_AndNothingLeaks()
    {
        const int boxCount = 50, commandsPerBox = 20, boxesAtOnce = 10;
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => o.WarmBoxes = 0 });
        using var client = server.CreateClient();

        // Warm up (JIT, connection pools, the first box start), then take the baseline.
        await using (var warm = await client.CreateSandboxAsync())
        {
            await warm.WriteFileAsync("/home/user/w.txt", "w");
            await warm.RunAsync("cat /home/user/w.txt");
        }

        var baseline = await Snapshot.TakeSettledAsync(server, null);
        var stopwatch = Stopwatch.StartNew();
        var wrong = new ConcurrentQueue<string>();
        var boxIds = new ConcurrentBag<string>();
        using var gate = new SemaphoreSlim(boxesAtOnce);
        await Task.WhenAll(Enumerable.Range(0, boxCount).Select(async b =>
        {
            await gate.WaitAsync();
            try
            {
                await using var box = await client.CreateSandboxAsync();
                boxIds.Add(box.Info.Id!);
                for (int c = 0; c < commandsPerBox; c++)
                {
                    string content = $"box {b} file {c} {Guid.NewGuid():N}";
                    string path = $"/home/user/work/f{c}.txt";
                    await box.WriteFileAsync(path, content);
                    string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)));
                    var result = await box.RunAsync($"cat {path}; echo; sha256sum {path} | cut -c1-64; echo err-{c} >&2");
                    if (result.ExitCode != 0 || result.Stdout != content + "\n" + hash + "\n" || result.Stderr != $"err-{c}\n")
                    {
                        wrong.Enqueue($"box {b} command {c}: exit {result.ExitCode}, stdout '{result.Stdout}', stderr '{result.Stderr}'");
                    }

                    if (c % 5 == 4)
                    {
                        string back = Encoding.UTF8.GetString(await box.ReadFileAsync(path));
                        if (back != content)
                        {
                            wrong.Enqueue($"box {b} file {c}: read back '{back}'");
                        }
                    }
                }

                var listed = await box.GlobAsync("*.txt", "/home/user/work");
                if (listed.Matches.Count != commandsPerBox)
                {
                    wrong.Enqueue($"box {b}: glob found {listed.Matches.Count} files");
                }
            }
            catch (Exception e) when (e is SandboxException or IOException or HttpRequestException or OperationCanceledException)
            {
                wrong.Enqueue($"box {b}: {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                gate.Release();
            }
        }));
        stopwatch.Stop();

        Assert.True(wrong.IsEmpty, $"{wrong.Count} wrong results of {boxCount * commandsPerBox}:\n{string.Join('\n', wrong.Take(20))}");
        Assert.Equal(boxCount, boxIds.Count);

        // Deletes answer before their teardown ends: wait for the background teardowns, then nothing may be left.
        await server.Services.GetRequiredService<Sandbox.Server.Runtime.BoxManager>().WhenTeardownsDoneAsync().WaitAsync(TimeSpan.FromMinutes(5));
        var after = await Snapshot.TakeSettledAsync(server, baseline);
        Assert.Empty(after.Children.Except(baseline.Children));
        Assert.Empty(after.Mounts);
        Assert.Empty(after.LoopDevices);
        Assert.Empty(Snapshot.CgroupsOf(boxIds));
        Assert.True(after.Fds <= baseline.Fds + 40, $"descriptors: {baseline.Fds} before, {after.Fds} after {boxCount} boxes");
        Assert.True(after.Threads <= baseline.Threads + 16, $"threads: {baseline.Threads} before, {after.Threads} after {boxCount} boxes");
        Console.WriteLine($"load: {boxCount} boxes x {commandsPerBox} commands in {stopwatch.Elapsed.TotalSeconds:F0} s; fds {baseline.Fds}->{after.Fds}, threads {baseline.Threads}->{after.Threads}");
    }

    [Fact]
    public async Task Commands_LeaveNoDescriptorsOrThreadsBehind()
    {
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => o.WarmBoxes = 0 });
        using var client = server.CreateClient();
        await using var box = await client.CreateSandboxAsync();
        for (int i = 0; i < 10; i++)
        {
            await box.RunAsync("echo warm");
        }

        var baseline = await Snapshot.TakeSettledAsync(server, null);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"{i}\n", (await box.RunAsync($"echo {i}")).Stdout);
        }

        // No garbage collection is forced: descriptors must be released when a command ends, not when it is collected.
        var after = await Snapshot.TakeSettledAsync(server, baseline);
        Assert.True(after.Fds <= baseline.Fds + 10, $"descriptors: {baseline.Fds} before, {after.Fds} after 200 commands");
        Assert.True(after.Threads <= baseline.Threads + 8, $"threads: {baseline.Threads} before, {after.Threads} after 200 commands");
    }

    [Fact]
    public async Task CreatingAndDeletingBoxes_LeavesNoPipeDescriptorsInTheServer()
    {
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => o.WarmBoxes = 0 });
        using var client = server.CreateClient();
        var manager = server.Services.GetRequiredService<Sandbox.Server.Runtime.BoxManager>();
        await using (var warm = await client.CreateSandboxAsync())
        {
            await warm.RunAsync("echo warm");
        }

        await manager.WhenTeardownsDoneAsync().WaitAsync(TimeSpan.FromMinutes(2));
        int before = PipeDescriptors();

        const int boxes = 12;
        for (int i = 0; i < boxes; i++)
        {
            await using var box = await client.CreateSandboxAsync();
            Assert.Equal("ok\n", (await box.RunAsync("echo ok")).Stdout);
        }

        await manager.WhenTeardownsDoneAsync().WaitAsync(TimeSpan.FromMinutes(2));

        // No garbage collection is forced: the box launcher's pipes must be closed by the teardown, not by finalizers.
        int after = PipeDescriptors();
        Assert.True(after <= before + 3, $"pipe descriptors: {before} before, {after} after {boxes} boxes created and deleted");
    }

    [Fact]
    public async Task WarmPool_GrowsAfterABurst_ServesTheNextBurstWarm_ThenShrinksBack_LeavingNothingBehind()
    {
        const int burst = 6;
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions
        {
            Configure = o =>
            {
                o.WarmBoxes = 1;
                o.WarmBoxesMax = burst;
                o.WarmBoxesDemandWindow = TimeSpan.FromSeconds(20);
                o.WarmBoxesShrinkInterval = TimeSpan.FromMilliseconds(300);
            },
        });
        using var client = server.CreateClient();
        var manager = server.Services.GetRequiredService<Sandbox.Server.Runtime.BoxManager>();
        var pool = server.Services.GetRequiredService<Sandbox.Server.Runtime.WarmBoxPool>();

        // Warm-up, then the pool back at its floor of one ready box: the baseline.
        await using (var warm = await client.CreateSandboxAsync())
        {
            await warm.RunAsync("true");
        }

        await WaitUntilAsync(() => pool.Ready == 1 && pool.Starting == 0 && pool.Target == 1, "the pool back at its floor", TimeSpan.FromSeconds(90));
        await manager.WhenTeardownsDoneAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var baseline = await Snapshot.TakeSettledAsync(server, null);
        int baselineGroups = BoxGroups().Count;

        // A first burst finds one warm box; the rest start cold, and the demand raises the pool's target.
        var used = new List<string>();
        var first = new List<SandboxInstance>();
        for (int i = 0; i < burst; i++)
        {
            first.Add(await client.CreateSandboxAsync());
        }

        used.AddRange(first.Select(b => b.Info.Id!));
        Assert.Equal(burst, pool.Target);
        foreach (var box in first)
        {
            await box.DeleteAsync();
        }

        // The pool refills to the burst's size; the same burst again is served entirely from it.
        await WaitUntilAsync(() => pool.Ready == burst, $"{burst} warm boxes ready", TimeSpan.FromSeconds(120));
        var ready = pool.ReadyIds.ToHashSet();
        var second = new List<SandboxInstance>();
        for (int i = 0; i < burst; i++)
        {
            var box = await client.CreateSandboxAsync();
            second.Add(box);
            Assert.Contains(box.Info.Id!, ready);
            Assert.Equal("ok\n", (await box.RunAsync("echo ok")).Stdout);
        }

        used.AddRange(second.Select(b => b.Info.Id!));
        foreach (var box in second)
        {
            await box.DeleteAsync();
        }

        // Without demand the pool shrinks back to its floor, one box at a time, and the boxes it gave up leave nothing.
        await WaitUntilAsync(() => pool.Ready == 1 && pool.Starting == 0 && pool.Target == 1, "the pool to shrink back to one", TimeSpan.FromSeconds(120));
        await manager.WhenTeardownsDoneAsync().WaitAsync(TimeSpan.FromMinutes(2));
        var after = await Snapshot.TakeSettledAsync(server, baseline);
        Assert.Empty(Snapshot.CgroupsOf(used));
        Assert.Equal(baselineGroups, BoxGroups().Count);
        Assert.Equal(baseline.Children.Count, after.Children.Count);
        Assert.Equal(baseline.LoopDevices.Count, after.LoopDevices.Count);
        Assert.Equal(baseline.Mounts.Count, after.Mounts.Count);
        Assert.Single(Directory.GetDirectories(Path.Combine(server.DataDirectory, "boxes")));
        Assert.True(after.Fds <= baseline.Fds + 10, $"descriptors: {baseline.Fds} before, {after.Fds} after the pool grew and shrank");
    }

    /// <summary>Box groups (any hierarchy) of the servers in this process.</summary>
    private static List<string> BoxGroups()
    {
        string prefix = $"server-{Environment.ProcessId}-";
        return [.. Directory.GetDirectories("/sys/fs/cgroup")
            .Select(h => Path.Combine(h, Sandbox.Server.Runtime.CgroupController.RootGroup))
            .Where(Directory.Exists)
            .SelectMany(Directory.GetDirectories)
            .Where(owner => Path.GetFileName(owner).StartsWith(prefix, StringComparison.Ordinal))
            .SelectMany(Directory.GetDirectories)
            .Where(g => Guid.TryParse(Path.GetFileName(g), out _))];
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

    private static int PipeDescriptors() => Directory.GetFiles("/proc/self/fd").Count(fd =>
    {
        try
        {
            return new FileInfo(fd).LinkTarget?.StartsWith("pipe:", StringComparison.Ordinal) == true;
        }
        catch (IOException)
        {
            return false;
        }
    });

    private sealed record Snapshot(int Fds, int Threads, List<string> Children, List<string> Mounts, List<string> LoopDevices)
    {
        /// <summary>Takes a snapshot, waiting (up to a minute) for idle pool threads and connections to wind down towards <paramref name="target"/>.</summary>
        public static async Task<Snapshot> TakeSettledAsync(LocalSandboxServer server, Snapshot? target)
        {
            Snapshot now = Take(server);
            for (int i = 0; i < 60 && target is not null && (now.Fds > target.Fds || now.Threads > target.Threads || now.Children.Except(target.Children).Any()); i++)
            {
                await Task.Delay(1000);
                now = Take(server);
            }

            return now;
        }

        private static Snapshot Take(LocalSandboxServer server)
        {
            string data = server.DataDirectory;
            var mounts = File.ReadAllLines("/proc/self/mountinfo").Where(l => l.Contains(data, StringComparison.Ordinal)).ToList();
            var loops = Directory.Exists("/sys/block")
                ? Directory.GetDirectories("/sys/block", "loop*")
                    .Select(d => Path.Combine(d, "loop", "backing_file"))
                    .Where(File.Exists)
                    .Select(f => File.ReadAllText(f).Trim())
                    .Where(f => f.Contains(data, StringComparison.Ordinal))
                    .ToList()
                : [];
            return new Snapshot(
                Directory.GetFiles("/proc/self/fd").Length,
                Directory.GetDirectories("/proc/self/task").Length,
                Descendants(Environment.ProcessId),
                mounts,
                loops);
        }

        /// <summary>Cgroup directories (any hierarchy) named after one of the boxes.</summary>
        public static List<string> CgroupsOf(IEnumerable<string> boxIds)
        {
            var ids = boxIds.ToHashSet(StringComparer.Ordinal);
            var found = new List<string>();
            var pending = new Stack<(string Dir, int Depth)>();
            pending.Push(("/sys/fs/cgroup", 0));
            while (pending.Count > 0)
            {
                var (dir, depth) = pending.Pop();
                string[] children;
                try
                {
                    children = Directory.GetDirectories(dir);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    continue;
                }

                foreach (string child in children)
                {
                    if (ids.Contains(Path.GetFileName(child)))
                    {
                        found.Add(child);
                    }
                    else if (depth < 4)
                    {
                        pending.Push((child, depth + 1));
                    }
                }
            }

            return found;
        }

        private static List<string> Descendants(int root)
        {
            var parents = new Dictionary<int, int>();
            var names = new Dictionary<int, string>();
            foreach (string dir in Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int pid))
                {
                    continue;
                }

                try
                {
                    string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    int close = stat.LastIndexOf(')');
                    string[] fields = stat[(close + 2)..].Split(' ');
                    parents[pid] = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
                    names[pid] = stat[(stat.IndexOf('(') + 1)..close];
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
                {
                }
            }

            var result = new List<string>();
            foreach (var (pid, _) in parents)
            {
                for (int p = parents[pid], hops = 0; p > 1 && hops < 64; p = parents.GetValueOrDefault(p), hops++)
                {
                    if (p == root)
                    {
                        result.Add($"{pid} {names[pid]}");
                        break;
                    }
                }
            }

            return result;
        }
    }
}
