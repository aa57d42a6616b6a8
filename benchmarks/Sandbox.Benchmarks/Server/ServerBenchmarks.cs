using System.Diagnostics;
using System.Globalization;
using Sandbox.Client;
using Sandbox.Server;

namespace Sandbox.Benchmarks.Server;

/// <summary>
/// Box create → first command, and the <c>run("true")</c> round trip, each next to the bare kernel work it wraps,
/// measured in the same run: a bare <c>bwrap --unshare-all true</c> spawn, and a bare <c>nsenter</c> into a live box.
/// A Stopwatch harness: BenchmarkDotNet's process-per-benchmark model does not fit a live server on 2 cores.
/// </summary>
internal static class ServerBenchmarks
{
    public static async Task<int> RunAsync(string[] args)
    {
        bool quick = args.Contains("--quick");
        int spawnIterations = quick ? 20 : 100;
        int createIterations = quick ? 10 : 40;
        int roundTrips = quick ? 100 : 500;

        string bwrap = FindOnPath("bwrap") ?? throw new InvalidOperationException("bwrap is not installed (run eng/install-deps.sh).");
        string nsenter = FindOnPath("nsenter") ?? throw new InvalidOperationException("nsenter is not installed.");

        Console.WriteLine("Starting the embedded local sandbox server...");
        await using LocalSandboxServer server = await LocalSandboxServer.StartAsync(null, CancellationToken.None);
        using SandboxClient client = server.CreateClient();

        // Warm-up: the first box pays for JIT, the default snapshot and the cgroup hierarchy.
        await using (var warm = await client.CreateSandboxAsync())
        {
            await warm.RunAsync("true");
        }

        var bareSpawn = new LatencyStats("bare: bwrap --unshare-all true (process spawn)");
        for (int i = 0; i < spawnIterations; i++)
        {
            long t = Stopwatch.GetTimestamp();
            await RunProcessAsync(bwrap, "--unshare-all", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true");
            bareSpawn.Add(t);
        }

        var createFirst = new LatencyStats("server: create box → run(\"true\") done");
        for (int i = 0; i < createIterations; i++)
        {
            long t = Stopwatch.GetTimestamp();
            var box = await client.CreateSandboxAsync();
            var result = await box.RunAsync("true");
            createFirst.Add(t);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException("run(\"true\") failed: " + result.Stderr);
            }

            await box.DeleteAsync();
        }

        await using var live = await client.CreateSandboxAsync();
        await live.RunAsync("true");
        int initPid = FindBoxInit(live.Info.Id ?? live.Name)
            ?? throw new InvalidOperationException("could not find the box's init process in /proc");

        var bareEnter = new LatencyStats("bare: nsenter -t <init> -U -m -u -i -n -p true");
        var wsRoundTrip = new LatencyStats("server: run(\"true\") over WebSocket");
        for (int i = 0; i < roundTrips; i++)
        {
            // Interleaved, so both see the same machine load.
            long t = Stopwatch.GetTimestamp();
            await RunProcessAsync(nsenter, "-t", initPid.ToString(CultureInfo.InvariantCulture), "-U", "-m", "-u", "-i", "-n", "-p", "true");
            bareEnter.Add(t);

            t = Stopwatch.GetTimestamp();
            await live.RunAsync("true");
            wsRoundTrip.Add(t);
        }

        Console.WriteLine();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; iterations: spawn {spawnIterations}, create {createIterations}, round trip {roundTrips}");
        Console.WriteLine($"{"measurement",-50} {"p50 ms",9} {"p90 ms",9} {"p99 ms",9}");
        foreach (var row in new[] { bareSpawn, createFirst, bareEnter, wsRoundTrip })
        {
            Console.WriteLine($"{row.Name,-50} {LatencyStats.Ms(row.Percentile(50)),9} {LatencyStats.Ms(row.Percentile(90)),9} {LatencyStats.Ms(row.Percentile(99)),9}");
        }

        double createRatio = createFirst.Percentile(50) / bareSpawn.Percentile(50);
        double roundTripOverhead = wsRoundTrip.Percentile(50) - bareEnter.Percentile(50);
        Console.WriteLine();
        Console.WriteLine($"create → first command: p50 {LatencyStats.Ms(createFirst.Percentile(50))} ms = {createRatio.ToString("0.0", CultureInfo.InvariantCulture)}× the bare bwrap spawn (targets: p50 ≤ 25 ms and ≤ 5×)");
        Console.WriteLine($"run(\"true\") round trip: p50 {LatencyStats.Ms(wsRoundTrip.Percentile(50))} ms = {LatencyStats.Ms(roundTripOverhead)} ms above a bare nsenter (target: ≤ 2 ms above)");
        return 0;
    }

    /// <summary>The in-namespace init of a box: a bwrap process naming the box whose pid namespace is not ours.</summary>
    private static int? FindBoxInit(string boxId)
    {
        string ownPidNamespace = new FileInfo("/proc/self/ns/pid").LinkTarget ?? "";
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (!cmdline.StartsWith("bwrap\0", StringComparison.Ordinal) && !cmdline.Contains("/bwrap\0", StringComparison.Ordinal))
                {
                    continue;
                }

                if (!cmdline.Contains(boxId, StringComparison.Ordinal))
                {
                    continue;
                }

                string? pidNamespace = new FileInfo(Path.Combine(dir, "ns", "pid")).LinkTarget;
                if (pidNamespace is not null && pidNamespace != ownPidNamespace)
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // The process went away while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    private static async Task RunProcessAsync(string file, params string[] arguments)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (string argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} exited with {process.ExitCode}");
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
