using System.Diagnostics;
using System.Globalization;
using Sandbox.Client;

namespace Sandbox.Benchmarks.Server;

/// <summary>
/// The server's performance figures, each next to its baseline measured in the same run (and, where the official JS SDK
/// is installed, the same scenario through it, interleaved): command round trip, command throughput, stdout streaming,
/// file transfer, create bursts and delete, idle box footprint. Runs against the standalone server as its own process.
/// A Stopwatch harness with repeated runs and percentiles: BenchmarkDotNet's process-per-benchmark model does not fit a
/// live server on 2 cores.
/// </summary>
internal static class PerfBenchmarks
{
    public static readonly string[] Scenarios = ["roundtrip", "throughput", "stdout", "files", "creates", "idle"];

    private const string StreamCommand = "yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz | head -c 209715200";
    private const long StreamBytes = 209_715_200;
    private const long FileBytes = 100L * 1024 * 1024;

    public static async Task<int> RunAsync(string scenario, string[] args)
    {
        bool quick = args.Contains("--quick");
        bool noJs = args.Contains("--no-js");
        string[] selected = scenario == "all" ? Scenarios : [scenario];
        if (selected.Any(s => !Scenarios.Contains(s)))
        {
            Console.Error.WriteLine($"unknown scenario '{scenario}'; one of: {string.Join(", ", Scenarios)}, all");
            return 2;
        }

        Console.WriteLine($"load before: {Load()}; starting the standalone server...");
        await using var server = await StandaloneServer.StartAsync();
        using var client = server.CreateClient();
        await using var js = noJs ? null : await JsSdkWorker.TryStartAsync(server);

        // Warm-up: JIT on both sides, the default snapshot, the cgroup hierarchy, the warm pool.
        var warm = await client.CreateSandboxAsync();
        for (int i = 0; i < 20; i++)
        {
            await warm.RunAsync("true");
        }

        if (js is not null)
        {
            for (int i = 0; i < 10; i++)
            {
                await js.CallAsync(new { op = "run", box = warm.Name, cmd = "true" });
            }
        }

        await warm.DeleteAsync();
        var table = new Table();
        foreach (string name in selected)
        {
            string before = Load();
            Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {name} (load {before})...");
            switch (name)
            {
                case "roundtrip":
                    await RoundTripAsync(server, client, js, quick ? 50 : 200, table);
                    break;
                case "throughput":
                    await ThroughputAsync(client, js, quick ? 1 : 3, table);
                    break;
                case "stdout":
                    await StdoutAsync(server, client, js, quick ? 1 : 3, table);
                    break;
                case "files":
                    await FilesAsync(server, client, js, quick ? 1 : 3, table);
                    break;
                case "creates":
                    await CreatesAsync(server, client, js, quick ? 10 : 20, table);
                    break;
                case "idle":
                    await IdleAsync(js is not null, quick ? 50 : 200, table);
                    break;
            }

            table.Note($"{name}: load {before} → {Load()}");
        }

        table.Print();
        return 0;
    }

    private static async Task RoundTripAsync(StandaloneServer server, SandboxClient client, JsSdkWorker? js, int iterations, Table table)
    {
        var box = await client.CreateSandboxAsync();
        await box.RunAsync("true");
        int init = await FindBoxInitAsync(server, box) ?? throw new InvalidOperationException("box init not found");
        string boxExec = Path.Combine(StandaloneServer.ServerBinDirectory, "sandbox-box-exec");
        string filter = Path.Combine(server.DataDirectory, "box-seccomp.bpf");
        string initText = init.ToString(CultureInfo.InvariantCulture);
        const string prelude = "echo $$; read -r go || exit 125; cd -- \"$1\" || exit 1; shift; exec \"$@\"";

        var nsenter = new LatencyStats("bare: nsenter -t <init> -a true");
        var chain = new LatencyStats("bare: server exec chain (box-exec → sh prelude → bash -c true)");
        var csharp = new LatencyStats("C# client: run(\"true\")");
        var jsStats = new LatencyStats("JS SDK: run(\"true\")");
        var cpuBefore = server.CpuTime();
        int served = 0;
        for (int i = 0; i < iterations; i++)
        {
            long t = Stopwatch.GetTimestamp();
            await RunProcessAsync("nsenter", null, "-t", initText, "-a", "true");
            nsenter.Add(t);

            t = Stopwatch.GetTimestamp();
            await RunProcessAsync(boxExec, "\n", initText, "0", "0", "a00425fb", File.Exists(filter) ? filter : "-", "--",
                "/bin/sh", "-c", prelude, "box-exec", "/home/user", "/bin/bash", "-c", "true");
            chain.Add(t);

            t = Stopwatch.GetTimestamp();
            var result = await box.RunAsync("true");
            csharp.Add(t);
            Check(result.ExitCode == 0, "run(true) failed: " + result.Stderr);
            served++;

            if (js is not null)
            {
                var answer = await js.CallAsync(new { op = "run", box = box.Name, cmd = "true" });
                jsStats.AddMilliseconds((double)answer["ms"]!);
                served++;
            }
        }

        double cpuMs = (server.CpuTime() - cpuBefore).TotalMilliseconds / served;
        table.Latency("roundtrip", nsenter, chain, csharp, js is null ? null : jsStats);
        table.Ratio("roundtrip", "C# run(true) p50 − nsenter p50 (target ≤ 2 ms)", csharp.Percentile(50) - nsenter.Percentile(50), "ms");
        table.Ratio("roundtrip", "C# run(true) p50 − server exec chain p50", csharp.Percentile(50) - chain.Percentile(50), "ms");
        table.Ratio("roundtrip", "server CPU per command (client commands only)", cpuMs, "ms");
        await box.DeleteAsync();
    }

    private static async Task ThroughputAsync(SandboxClient client, JsSdkWorker? js, int repeats, Table table)
    {
        const int boxes = 20, per = 20;
        var list = new List<SandboxInstance>();
        for (int i = 0; i < boxes; i++)
        {
            list.Add(await client.CreateSandboxAsync());
        }

        var csharp = new List<double>();
        var jsRates = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            long t = Stopwatch.GetTimestamp();
            await Task.WhenAll(list.Select(async b =>
            {
                for (int i = 0; i < per; i++)
                {
                    await b.RunAsync("true");
                }
            }));
            csharp.Add(boxes * per / Stopwatch.GetElapsedTime(t).TotalSeconds);
            if (js is not null)
            {
                var answer = await js.CallAsync(new { op = "throughput", boxes = list.Select(b => b.Name).ToArray(), per });
                jsRates.Add(boxes * per / ((double)answer["ms"]! / 1000));
            }
        }

        table.Ratio("throughput", $"C# {boxes} boxes × {per} × run(\"true\"): commands/s, median of {repeats} (target ≥ 400)", Median(csharp), "cmd/s");
        if (js is not null)
        {
            table.Ratio("throughput", $"JS SDK same: commands/s, median of {repeats}", Median(jsRates), "cmd/s");
        }

        await Task.WhenAll(list.Select(b => b.DeleteAsync()));
    }

    private static async Task StdoutAsync(StandaloneServer server, SandboxClient client, JsSdkWorker? js, int repeats, Table table)
    {
        var box = await client.CreateSandboxAsync();
        var inBox = new List<double>();
        var inBoxPipe = new List<double>();
        var collect = new List<double>();
        var stream = new List<double>();
        var jsRates = new List<double>();
        var collectPeak = new List<double>();
        var jsPeak = new List<double>();
        List<double> collectServerCpu = [], collectClientCpu = [], jsServerCpu = [], jsClientCpu = [];
        // Peak memory is measured against the resident set before the first run: the garbage collector keeps memory it
        // freed, so a later run's own baseline would hide what the first one needed.
        GC.Collect();
        long baseline = PeakMemory.Reset(Environment.ProcessId);
        long jsBaseline = js is null ? 0 : PeakMemory.Reset(js.Pid);
        for (int r = 0; r < repeats; r++)
        {
            inBox.Add(await InBoxRateAsync(box, $"{StreamCommand} > /dev/null"));
            inBoxPipe.Add(await InBoxRateAsync(box, $"{StreamCommand} | cat > /dev/null"));

            GC.Collect();
            PeakMemory.Reset(Environment.ProcessId);
            var serverCpu = server.CpuTime();
            var clientCpu = StandaloneServer.CpuTime(Environment.ProcessId);
            long t = Stopwatch.GetTimestamp();
            var result = await box.RunAsync(StreamCommand, new RunOptions { Timeout = TimeSpan.FromMinutes(10) });
            collect.Add(Mb(StreamBytes) / Stopwatch.GetElapsedTime(t).TotalSeconds);
            collectServerCpu.Add((server.CpuTime() - serverCpu).TotalMilliseconds / Mb(StreamBytes));
            collectClientCpu.Add((StandaloneServer.CpuTime(Environment.ProcessId) - clientCpu).TotalMilliseconds / Mb(StreamBytes));
            Check(result.Stdout.Length == StreamBytes, $"collected {result.Stdout.Length} of {StreamBytes} bytes");
            collectPeak.Add(Mb(PeakMemory.Peak(Environment.ProcessId) - baseline));

            GC.Collect();
            long start = Stopwatch.GetTimestamp();
            await using (var handle = await box.StartCommandAsync(StreamCommand, new RunOptions { Timeout = TimeSpan.FromMinutes(10), CollectOutput = false }))
            {
                long received = 0;
                await foreach (var chunk in handle.ReadOutputAsync())
                {
                    if (chunk.Stream != OutputStreamKind.Stdout)
                    {
                        continue; // yes(1) reports the broken pipe when head has taken its bytes
                    }

                    Check(chunk.Offset == received, $"chunk at offset {chunk.Offset} after {received} bytes (length {chunk.Data.Length}, {handle.StdoutSkippedBytes} skipped)");
                    received += chunk.Data.Length;
                }

                Check(received == StreamBytes, $"streamed {received} of {StreamBytes} bytes");
            }

            stream.Add(Mb(StreamBytes) / Stopwatch.GetElapsedTime(start).TotalSeconds);

            if (js is not null)
            {
                PeakMemory.Reset(js.Pid);
                var serverCpuJs = server.CpuTime();
                var nodeCpu = StandaloneServer.CpuTime(js.Pid);
                var answer = await js.CallAsync(new { op = "stream", box = box.Name, cmd = StreamCommand });
                jsServerCpu.Add((server.CpuTime() - serverCpuJs).TotalMilliseconds / Mb(StreamBytes));
                jsClientCpu.Add((StandaloneServer.CpuTime(js.Pid) - nodeCpu).TotalMilliseconds / Mb(StreamBytes));
                Check((long)answer["bytes"]! == StreamBytes, $"JS collected {answer["bytes"]} bytes");
                jsRates.Add(Mb(StreamBytes) / ((double)answer["ms"]! / 1000));
                jsPeak.Add(Mb(PeakMemory.Peak(js.Pid) - jsBaseline));
            }
        }

        double inBoxRate = Median(inBox), collectRate = Median(collect), streamRate = Median(stream);
        table.Ratio("stdout", "in box: 200 MB command > /dev/null", inBoxRate, "MB/s");
        table.Ratio("stdout", "in box: 200 MB command | cat > /dev/null", Median(inBoxPipe), "MB/s");
        table.Ratio("stdout", "C# run() collecting", collectRate, "MB/s");
        table.Ratio("stdout", "C# ReadOutputAsync, CollectOutput = false", streamRate, "MB/s");
        table.Ratio("stdout", "C# collecting ÷ in box (target ≥ 0.6)", collectRate / inBoxRate, "×");
        table.Ratio("stdout", "C# collecting: client peak RSS above the RSS before the first run (VmHWM, max of runs)", collectPeak.Max(), "MB");
        table.Ratio("stdout", "C# collecting: server CPU per MB", Median(collectServerCpu), "ms");
        table.Ratio("stdout", "C# collecting: client CPU per MB", Median(collectClientCpu), "ms");
        if (js is not null)
        {
            table.Ratio("stdout", "JS SDK run() collecting", Median(jsRates), "MB/s");
            table.Ratio("stdout", "C# collecting ÷ JS (target ≥ 1.5)", collectRate / Median(jsRates), "×");
            table.Ratio("stdout", "JS collecting: node peak RSS above its RSS before the first run (VmHWM, max of runs)", jsPeak.Max(), "MB");
            table.Ratio("stdout", "JS collecting: server CPU per MB", Median(jsServerCpu), "ms");
            table.Ratio("stdout", "JS collecting: node CPU per MB", Median(jsClientCpu), "ms");
        }

        await box.DeleteAsync();
    }

    /// <summary>The rate of a command timed inside the box (MB/s), so no transport is counted.</summary>
    private static async Task<double> InBoxRateAsync(SandboxInstance box, string command)
    {
        var result = await box.RunAsync($"s=$(date +%s%N); {command}; e=$(date +%s%N); echo $(( (e - s) / 1000 ))", new RunOptions { Timeout = TimeSpan.FromMinutes(5) });
        double micros = double.Parse(result.Stdout.Trim(), CultureInfo.InvariantCulture);
        return Mb(StreamBytes) / (micros / 1e6);
    }

    private static async Task FilesAsync(StandaloneServer server, SandboxClient client, JsSdkWorker? js, int repeats, Table table)
    {
        var box = await client.CreateSandboxAsync();
        string source = Path.Combine(server.DataDirectory, "bench-source.bin");
        string copy = Path.Combine(server.DataDirectory, "bench-copy.bin");
        string back = Path.Combine(server.DataDirectory, "bench-back.bin");
        await using (var file = File.Create(source))
        {
            byte[] block = new byte[1 << 20];
            for (long written = 0; written < FileBytes; written += block.Length)
            {
                Random.Shared.NextBytes(block);
                await file.WriteAsync(block);
            }
        }

        // The upload lands on the box's own filesystem (a loop-mounted ext4 image): cp onto that filesystem, reached
        // through a box process's root, is the like-for-like baseline; cp between host files is the other one.
        string? boxRoot = await FindBoxRootAsync(box);
        var cpIntoBox = new List<double>();
        var cp = new List<double>();
        var upload = new List<double>();
        var download = new List<double>();
        var jsUpload = new List<double>();
        var jsDownload = new List<double>();
        var uploadCpu = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            File.Delete(copy);
            long t = Stopwatch.GetTimestamp();
            await RunProcessAsync("cp", null, source, copy);
            cp.Add(Mb(FileBytes) / Stopwatch.GetElapsedTime(t).TotalSeconds);
            File.Delete(copy);
            if (boxRoot is not null)
            {
                string boxCopy = Path.Combine(boxRoot, "home/user/bench-cp.bin");
                t = Stopwatch.GetTimestamp();
                await RunProcessAsync("cp", null, source, boxCopy);
                cpIntoBox.Add(Mb(FileBytes) / Stopwatch.GetElapsedTime(t).TotalSeconds);
                File.Delete(boxCopy);
            }

            var cpu = server.CpuTime();
            t = Stopwatch.GetTimestamp();
            await using (var content = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous))
            {
                await box.WriteFileAsync("/home/user/bench.bin", content);
            }

            upload.Add(Mb(FileBytes) / Stopwatch.GetElapsedTime(t).TotalSeconds);
            uploadCpu.Add((server.CpuTime() - cpu).TotalMilliseconds / Mb(FileBytes));

            t = Stopwatch.GetTimestamp();
            await using (var body = await box.OpenReadAsync("/home/user/bench.bin"))
            await using (var target = new FileStream(back, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await body.CopyToAsync(target, 1 << 20);
            }

            download.Add(Mb(FileBytes) / Stopwatch.GetElapsedTime(t).TotalSeconds);
            Check(new FileInfo(back).Length == FileBytes, "download length differs");
            File.Delete(back);

            if (js is not null)
            {
                var answer = await js.CallAsync(new { op = "upload", box = box.Name, path = "/home/user/bench-js.bin", file = source });
                jsUpload.Add(Mb(FileBytes) / ((double)answer["ms"]! / 1000));
                answer = await js.CallAsync(new { op = "download", box = box.Name, path = "/home/user/bench-js.bin", file = back });
                jsDownload.Add(Mb(FileBytes) / ((double)answer["ms"]! / 1000));
                File.Delete(back);
            }
        }

        double cpRate = Median(cp);
        table.Ratio("files", "host cp of the 100 MB file", cpRate, "MB/s");
        table.Ratio("files", "C# upload (WriteFileAsync from a FileStream)", Median(upload), "MB/s");
        table.Ratio("files", "C# download (OpenReadAsync → FileStream)", Median(download), "MB/s");
        table.Ratio("files", "upload ÷ cp (target ≥ 0.4)", Median(upload) / cpRate, "×");
        table.Ratio("files", "download ÷ cp (target ≥ 0.6)", Median(download) / cpRate, "×");
        table.Ratio("files", "server CPU per uploaded MB", Median(uploadCpu), "ms");
        if (cpIntoBox.Count > 0)
        {
            table.Ratio("files", "host cp into the box's filesystem", Median(cpIntoBox), "MB/s");
            table.Ratio("files", "upload ÷ cp into the box's filesystem", Median(upload) / Median(cpIntoBox), "×");
        }

        if (js is not null)
        {
            table.Ratio("files", "JS SDK upload (write)", Median(jsUpload), "MB/s");
            table.Ratio("files", "JS SDK download (read)", Median(jsDownload), "MB/s");
        }

        File.Delete(source);
        await box.DeleteAsync();
    }

    /// <summary>The host path of the box's root directory (<c>/proc/&lt;pid&gt;/root</c> of a process inside it), found by a marker file; null if not visible.</summary>
    private static async Task<string?> FindBoxRootAsync(SandboxInstance box)
    {
        string marker = ".bench-root-" + Guid.NewGuid().ToString("N");
        await box.WriteFileAsync("/home/user/" + marker, "x");
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }

            string root = Path.Combine(dir, "root");
            try
            {
                if (File.Exists(Path.Combine(root, "home/user", marker)))
                {
                    File.Delete(Path.Combine(root, "home/user", marker));
                    return root;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    /// <summary>
    /// Create bursts. What each row measures, in the order it runs:
    /// 1. "first burst": <paramref name="burst"/> creates back to back right after the server started, the warm pool at
    ///    its floor (<c>WarmBoxes</c>): only that many are warm, the rest start cold.
    /// 2. "warm create": one create at a time with the pool refilled in between (the reference of the target), C# and JS
    ///    interleaved.
    /// 3. "cold create": creates that never take a warm box (an <c>fs_capacity_bytes</c> of their own), the cold path.
    /// 4. "burst after demand": the same burst once the pool has seen the first one and refilled, C# and JS alternating
    ///    (two bursts each), each after the pool refilled.
    /// 5. "delete": every box of those bursts.
    /// 6. the JS SDK's first burst, on a fresh server of its own (the main one's pool has seen demand by then).
    /// </summary>
    private static async Task CreatesAsync(StandaloneServer server, SandboxClient client, JsSdkWorker? js, int burst, Table table)
    {
        var first = new LatencyStats($"C#: first burst of {burst} creates right after server start (pool at its floor)");
        var firstBoxes = await BurstAsync(client, burst, first);
        await DeleteAllAsync(firstBoxes, null);
        await WaitForPoolAsync(server);

        var warm = new LatencyStats("C#: one create, warm pool refilled before each");
        var jsWarm = new LatencyStats("JS SDK: one create, warm pool refilled before each");
        var cold = new LatencyStats("C#: cold create (own fs_capacity_bytes: never a warm box)");
        for (int i = 0; i < 5; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            long t = Stopwatch.GetTimestamp();
            var box = await client.CreateSandboxAsync();
            warm.Add(t);
            await box.DeleteAsync();
            if (js is not null)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                var answer = await js.CallAsync(new { op = "create" });
                jsWarm.AddMilliseconds((double)answer["ms"]!);
                await js.CallAsync(new { op = "delete", box = (string)answer["name"]! });
            }

            t = Stopwatch.GetTimestamp();
            var coldBox = await client.CreateSandboxAsync(new CreateSandboxOptions { FsCapacityBytes = 1L << 30 });
            cold.Add(t);
            await coldBox.DeleteAsync();
        }

        var after = new LatencyStats($"C#: burst of {burst} creates after the pool saw demand and refilled (2 bursts)");
        var jsAfter = new LatencyStats($"JS SDK: burst of {burst} creates after the pool saw demand and refilled (2 bursts)");
        var deletes = new LatencyStats("C#: delete (each box of the bursts after demand)");
        var jsDeletes = new LatencyStats("JS SDK: delete (each box of its bursts after demand)");
        for (int round = 0; round < 2; round++)
        {
            await WaitForPoolAsync(server);
            await DeleteAllAsync(await BurstAsync(client, burst, after), deletes);
            if (js is not null)
            {
                await WaitForPoolAsync(server);
                var names = new List<string>();
                for (int i = 0; i < burst; i++)
                {
                    var answer = await js.CallAsync(new { op = "create" });
                    jsAfter.AddMilliseconds((double)answer["ms"]!);
                    names.Add((string)answer["name"]!);
                }

                foreach (string name in names)
                {
                    jsDeletes.AddMilliseconds((double)(await js.CallAsync(new { op = "delete", box = name }))["ms"]!);
                }
            }
        }

        LatencyStats? jsFirst = null;
        if (js is not null)
        {
            // The JS SDK's first burst needs a pool at its floor: a fresh server.
            await using var fresh = await StandaloneServer.StartAsync();
            await using var freshJs = await JsSdkWorker.TryStartAsync(fresh);
            if (freshJs is not null)
            {
                await WaitForPoolAsync(fresh);
                var warmUp = await freshJs.CallAsync(new { op = "create" }); // JIT and connections, as the C# warm-up
                await freshJs.CallAsync(new { op = "delete", box = (string)warmUp["name"]! });
                await WaitForPoolAsync(fresh);
                jsFirst = new LatencyStats($"JS SDK: first burst of {burst} creates on a fresh server (pool at its floor)");
                var names = new List<string>();
                for (int i = 0; i < burst; i++)
                {
                    var answer = await freshJs.CallAsync(new { op = "create" });
                    jsFirst.AddMilliseconds((double)answer["ms"]!);
                    names.Add((string)answer["name"]!);
                }

                foreach (string name in names)
                {
                    await freshJs.CallAsync(new { op = "delete", box = name });
                }
            }
        }

        double warmP50 = warm.Percentile(50);
        table.Latency("creates", warm, js is null ? null : jsWarm, cold, first, jsFirst, after, js is null ? null : jsAfter, deletes, js is null ? null : jsDeletes);
        table.Ratio("creates", "C# first burst p90 ÷ warm create p50 (target ≤ 2)", first.Percentile(90) / warmP50, "×");
        table.Ratio("creates", "C# burst after demand p90 ÷ warm create p50 (target ≤ 2)", after.Percentile(90) / warmP50, "×");
        table.Ratio("creates", "C# delete p50 ÷ warm create p50 (target ≤ 1)", deletes.Percentile(50) / warmP50, "×");
        table.Ratio("creates", "cold create p50 ÷ warm create p50", cold.Percentile(50) / warmP50, "×");
        if (js is not null)
        {
            double jsWarmP50 = jsWarm.Percentile(50);
            if (jsFirst is not null)
            {
                table.Ratio("creates", "JS first burst p90 ÷ JS warm create p50", jsFirst.Percentile(90) / jsWarmP50, "×");
            }

            table.Ratio("creates", "JS burst after demand p90 ÷ JS warm create p50", jsAfter.Percentile(90) / jsWarmP50, "×");
            table.Ratio("creates", "JS delete p50 ÷ JS warm create p50", jsDeletes.Percentile(50) / jsWarmP50, "×");
        }
    }

    private static async Task<List<SandboxInstance>> BurstAsync(SandboxClient client, int burst, LatencyStats stats)
    {
        var boxes = new List<SandboxInstance>();
        for (int i = 0; i < burst; i++)
        {
            long t = Stopwatch.GetTimestamp();
            boxes.Add(await client.CreateSandboxAsync());
            stats.Add(t);
        }

        return boxes;
    }

    private static async Task DeleteAllAsync(List<SandboxInstance> boxes, LatencyStats? stats)
    {
        foreach (var box in boxes)
        {
            long t = Stopwatch.GetTimestamp();
            await box.DeleteAsync();
            stats?.Add(t);
        }
    }

    /// <summary>Waits (up to 2 minutes) until the processes below the server have not changed for 3 s: warm boxes started, teardowns done.</summary>
    private static async Task WaitForPoolAsync(StandaloneServer server)
    {
        var deadline = Stopwatch.StartNew();
        int last = -1;
        var stable = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromMinutes(2))
        {
            int now = server.Descendants().Count;
            if (now != last)
            {
                last = now;
                stable.Restart();
            }
            else if (stable.Elapsed >= TimeSpan.FromSeconds(3))
            {
                return;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Idle footprint, on a server of its own whose warm pool shrinks back within about half a minute (demand window
    /// 10 s, one spare given up per second), so "settled" is measured with the pool back at its floor; C# first, then
    /// the same through the JS SDK.
    /// </summary>
    private static async Task IdleAsync(bool withJs, int count, Table table)
    {
        await using var server = await StandaloneServer.StartAsync(new Dictionary<string, string>
        {
            ["SandboxServer__WarmBoxesDemandWindow"] = "00:00:10",
            ["SandboxServer__WarmBoxesShrinkInterval"] = "00:00:01",
        });
        using var client = server.CreateClient();
        await using var js = withJs ? await JsSdkWorker.TryStartAsync(server) : null;
        await using (var warm = await client.CreateSandboxAsync())
        {
            await warm.RunAsync("true");
        }

        if (js is not null)
        {
            var answer = await js.CallAsync(new { op = "create" });
            await js.CallAsync(new { op = "delete", box = (string)answer["name"]! });
        }

        await IdleRoundAsync(server, count, "C#", table, async () =>
        {
            var boxes = new SandboxInstance[count];
            await ForEachAsync(Enumerable.Range(0, count), async i => boxes[i] = await client.CreateSandboxAsync());
            return async () => await ForEachAsync(boxes, b => b.DeleteAsync());
        });

        if (js is not null)
        {
            await IdleRoundAsync(server, count, "JS SDK", table, async () =>
            {
                var answer = await js.CallAsync(new { op = "createMany", count, concurrency = 4 });
                string[] names = [.. answer["names"]!.AsArray().Select(n => (string)n!)];
                return async () => await js.CallAsync(new { op = "deleteMany", boxes = names, concurrency = 4 });
            });
        }
    }

    /// <summary>Creates <paramref name="count"/> idle boxes (4 at a time), measures, deletes them, measures again 10 s later.</summary>
    private static async Task IdleRoundAsync(StandaloneServer server, int count, string who, Table table, Func<Task<Func<Task>>> createAll)
    {
        await WaitForPoolAsync(server);
        var (rssBefore, fdsBefore) = server.Footprint();
        var heapBefore = server.RssBreakdown();
        int pool = server.Descendants().Count;
        long pssBefore = server.Descendants().Sum(StandaloneServer.PssKb);
        long availableBefore = StandaloneServer.MemAvailableKb();
        var deleteAll = await createAll();
        await WaitForPoolAsync(server);
        var descendants = server.Descendants();
        long pssWith = descendants.Sum(StandaloneServer.PssKb);
        long availableWith = StandaloneServer.MemAvailableKb();
        var (rssWith, fdsWith) = server.Footprint();
        var heapWith = server.RssBreakdown();
        await deleteAll();
        await Task.Delay(TimeSpan.FromSeconds(10));
        var (rssAfter, fdsAfter) = server.Footprint();
        var heapAfter = server.RssBreakdown();
        await WaitForPoolAsync(server);
        var (rssSettled, fdsSettled) = server.Footprint();
        int alive = server.Descendants().Count;
        string s = $"{who}, {count} boxes";
        table.Ratio("idle", $"{s}: host PSS per idle box (all processes below the server; target ≤ 1 MB)", (pssWith - pssBefore) / 1024.0 / count, "MB");
        table.Ratio("idle", $"{s}: host MemAvailable drop per idle box (kernel side included: mounts, loop disk, page cache)", (availableBefore - availableWith) / 1024.0 / count, "MB");
        table.Ratio("idle", $"{s}: processes below the server per box", (double)descendants.Count / count, "procs");
        table.Ratio("idle", $"{s}: server RSS: before / with boxes / 10 s after deleting", rssBefore, rssWith, rssAfter, "MB");
        table.Ratio("idle", $"{s}: server RSS of which GC heap range: before / with / 10 s after", heapBefore.GcMb, heapWith.GcMb, heapAfter.GcMb, "MB");
        table.Ratio("idle", $"{s}: server RSS of other anonymous memory (native): before / with / 10 s after", heapBefore.OtherAnonMb, heapWith.OtherAnonMb, heapAfter.OtherAnonMb, "MB");
        table.Ratio("idle", $"{s}: server fds: before / with boxes / 10 s after deleting", fdsBefore, fdsWith, fdsAfter, "fds");
        table.Ratio("idle", $"{s}: server RSS / fds / processes below it once teardowns and pool settled", rssSettled, fdsSettled, alive, "MB / fds / procs");
        table.Ratio("idle", $"{s}: processes below the server before", pool, "procs");
    }

    private static async Task ForEachAsync<T>(IEnumerable<T> items, Func<T, Task> action)
    {
        using var gate = new SemaphoreSlim(4);
        await Task.WhenAll(items.Select(async item =>
        {
            await gate.WaitAsync();
            try
            {
                await action(item);
            }
            finally
            {
                gate.Release();
            }
        }));
    }

    /// <summary>The box's init on the host: the process below the server that is pid 1 of the box's pid namespace.</summary>
    private static async Task<int?> FindBoxInitAsync(StandaloneServer server, SandboxInstance box)
    {
        string boxPidNamespace = (await box.RunAsync("readlink /proc/self/ns/pid")).Stdout.Trim();
        foreach (int pid in server.Descendants())
        {
            try
            {
                if (new FileInfo($"/proc/{pid}/ns/pid").LinkTarget != boxPidNamespace)
                {
                    continue;
                }

                string? nspid = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("NSpid:", StringComparison.Ordinal));
                if (nspid is not null && nspid.Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries)[^1] == "1")
                {
                    return pid;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    private static async Task RunProcessAsync(string file, string? stdin, params string[] arguments)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = stdin is not null, RedirectStandardOutput = stdin is not null };
        foreach (string argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            await process.StandardInput.FlushAsync();
            process.StandardInput.Close();
            await process.StandardOutput.ReadToEndAsync();
        }

        await process.WaitForExitAsync();
        Check(process.ExitCode == 0, $"{file} exited with {process.ExitCode}");
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static double Mb(long bytes) => bytes / 1048576.0;

    private static double Median(List<double> values)
    {
        List<double> sorted = [.. values];
        sorted.Sort();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }

    /// <summary>Peak resident memory of a process, reset on demand (<c>/proc/PID/clear_refs</c> 5 resets VmHWM).</summary>
    private static class PeakMemory
    {
        /// <summary>Resets the peak to the current resident set and returns that (bytes).</summary>
        public static long Reset(int pid)
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return Status(pid, "VmRSS:");
        }

        /// <summary>The peak resident set since the last reset (bytes).</summary>
        public static long Peak(int pid) => Status(pid, "VmHWM:");

        private static long Status(int pid, string key)
        {
            string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(key, StringComparison.Ordinal));
            return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
    }

    /// <summary>The printed result: latency rows and derived figures, grouped by scenario.</summary>
    private sealed class Table
    {
        private readonly List<(string Scenario, string Name, string Values)> _rows = [];
        private readonly List<string> _notes = [];

        public void Latency(string scenario, params LatencyStats?[] rows)
        {
            foreach (var row in rows)
            {
                if (row is not null)
                {
                    _rows.Add((scenario, row.Name, $"p50 {LatencyStats.Ms(row.Percentile(50))} ms   p90 {LatencyStats.Ms(row.Percentile(90))} ms   (n={row.Count})"));
                }
            }
        }

        public void Ratio(string scenario, string name, double value, string unit) =>
            _rows.Add((scenario, name, $"{Format(value)} {unit}"));

        public void Ratio(string scenario, string name, double a, double b, double c, string unit) =>
            _rows.Add((scenario, name, $"{Format(a)} / {Format(b)} / {Format(c)} {unit}"));

        public void Ratio(string scenario, string name, double a, double b, string unit) =>
            _rows.Add((scenario, name, $"{Format(a)} / {Format(b)} {unit}"));

        public void Note(string note) => _notes.Add(note);

        public void Print()
        {
            Console.WriteLine();
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            Console.WriteLine($"| scenario | measurement | value |");
            Console.WriteLine($"| --- | --- | --- |");
            foreach (var (scenario, name, values) in _rows)
            {
                Console.WriteLine($"| {scenario} | {name} | {values} |");
            }

            Console.WriteLine();
            foreach (string note in _notes)
            {
                Console.WriteLine("load (1-min average) " + note);
            }
        }

        private static string Format(double value) => value.ToString(Math.Abs(value) >= 100 ? "0" : "0.00", CultureInfo.InvariantCulture);
    }
}
