using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Sandbox.Client;

namespace Sandbox.Benchmarks.Server;

/// <summary>
/// The standalone Sandbox.Server (the Release build in <c>src/Sandbox.Server/bin</c>) started as its own process on a
/// loopback port with its own data folder, so the C# client and the official JS SDK reach the same server and its
/// memory, descriptors and CPU are measured apart from the client's.
/// </summary>
internal sealed partial class StandaloneServer : IAsyncDisposable
{
    private readonly Process _process;

    private StandaloneServer(Process process, string endpoint, string apiKey, string dataDirectory)
    {
        _process = process;
        Endpoint = endpoint;
        ApiKey = apiKey;
        DataDirectory = dataDirectory;
    }

    /// <summary>The server root (<c>http://127.0.0.1:PORT</c>).</summary>
    public string Endpoint { get; }

    public string ApiKey { get; }

    public string DataDirectory { get; }

    public int Pid => _process.Id;

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Sandbox.AgentTools.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("run the benchmarks from the repository (Sandbox.AgentTools.sln not found above the binary)");
    }

    /// <summary>
    /// The server's output folder (its sandbox-box-exec helper lives there): this repository's Release build, or
    /// <c>$SANDBOX_BENCH_SERVER_BIN</c> (say another checkout's build, for a before/after with the same harness).
    /// </summary>
    public static string ServerBinDirectory =>
        Environment.GetEnvironmentVariable("SANDBOX_BENCH_SERVER_BIN") is { Length: > 0 } bin
            ? bin
            : Path.Combine(RepositoryRoot(), "src", "Sandbox.Server", "bin", "Release", "net10.0");

    /// <summary>Starts the server; <paramref name="environment"/> adds variables (say <c>SandboxServer__WarmBoxes</c>).</summary>
    public static async Task<StandaloneServer> StartAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        string dll = Path.Combine(ServerBinDirectory, "Sandbox.Server.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: dotnet build src/Sandbox.Server -c Release");
        }

        string dataDirectory = Path.Combine(Path.GetTempPath(), "sandbox-bench-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dataDirectory);
        string apiKey = "bench-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        var psi = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { dll, "--urls", "http://127.0.0.1:0", "--data-dir", dataDirectory })
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment["SANDBOX_SERVER_API_KEY"] = apiKey;
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }

        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the server");
        var endpoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null && EndpointLine().Match(e.Data) is { Success: true } match)
            {
                endpoint.TrySetResult(match.Groups[1].Value.TrimEnd('/'));
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = process.WaitForExitAsync().ContinueWith(_ => endpoint.TrySetException(new InvalidOperationException("the server exited")), TaskScheduler.Default);
        string address = await endpoint.Task.WaitAsync(TimeSpan.FromSeconds(90));
        return new StandaloneServer(process, address, apiKey, dataDirectory);
    }

    public SandboxClient CreateClient() => new(new SandboxClientOptions { Endpoint = new Uri(Endpoint + "/v2/sandboxes"), ApiKey = ApiKey, Timeout = TimeSpan.FromSeconds(120) });

    /// <summary>The server's resident set (kB → MB) and open descriptors.</summary>
    public (double RssMb, int Fds) Footprint()
    {
        double rss = ProcStatus(_process.Id, "VmRSS:") / 1024.0;
        int fds = Directory.GetFiles($"/proc/{_process.Id}/fd").Length;
        return (rss, fds);
    }

    /// <summary>
    /// The server's resident set split by what holds it (<c>/proc/PID/smaps</c>): the garbage collector's reserved
    /// range (approximated as the run of adjacent anonymous mappings around the largest inaccessible reservation) and
    /// the other anonymous memory (native allocations, thread stacks, JIT code).
    /// </summary>
    public (double GcMb, double OtherAnonMb) RssBreakdown()
    {
        var maps = new List<(ulong Start, ulong End, bool Anon, bool Reserved, long RssKb)>();
        try
        {
            foreach (string line in File.ReadLines($"/proc/{_process.Id}/smaps"))
            {
                int dash = line.IndexOf('-');
                int space = line.IndexOf(' ');
                if (dash > 0 && space > dash && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
                    && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong end))
                {
                    string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    string path = fields.Length > 5 ? fields[5] : "";
                    bool anon = path.Length == 0 || path == "[heap]" || path.Contains("doublemapper", StringComparison.Ordinal);
                    maps.Add((start, end, anon, fields[1].StartsWith("---", StringComparison.Ordinal) && path.Length == 0, 0));
                }
                else if (line.StartsWith("Rss:", StringComparison.Ordinal) && maps.Count > 0)
                {
                    var last = maps[^1];
                    maps[^1] = last with { RssKb = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) };
                }
            }
        }
        catch (IOException)
        {
            return (0, 0);
        }

        maps.Sort((a, b) => a.Start.CompareTo(b.Start));
        int big = -1;
        for (int i = 0; i < maps.Count; i++)
        {
            if (maps[i].Reserved && (big < 0 || maps[i].End - maps[i].Start > maps[big].End - maps[big].Start))
            {
                big = i;
            }
        }

        int lo = big, hi = big;
        bool Plain(int i) => maps[i].Anon && maps[i].Start != 0;
        while (big >= 0 && lo > 0 && Plain(lo - 1) && maps[lo - 1].End == maps[lo].Start)
        {
            lo--;
        }

        while (big >= 0 && hi < maps.Count - 1 && Plain(hi + 1) && maps[hi].End == maps[hi + 1].Start)
        {
            hi++;
        }

        long gc = 0, other = 0;
        for (int i = 0; i < maps.Count; i++)
        {
            if (big >= 0 && i >= lo && i <= hi)
            {
                gc += maps[i].RssKb;
            }
            else if (maps[i].Anon)
            {
                other += maps[i].RssKb;
            }
        }

        return (gc / 1024.0, other / 1024.0);
    }

    /// <summary>The host's available memory (<c>MemAvailable</c>, kB).</summary>
    public static long MemAvailableKb()
    {
        string line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        return long.Parse(line["MemAvailable:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>Total CPU time (user + system) the server has used so far.</summary>
    public TimeSpan CpuTime() => CpuTime(_process.Id);

    /// <summary>Total CPU time (user + system) a process has used so far.</summary>
    public static TimeSpan CpuTime(int pid)
    {
        string[] stat = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long ticks = long.Parse(stat[11], CultureInfo.InvariantCulture) + long.Parse(stat[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    /// <summary>Every process below the server (its boxes and their helpers).</summary>
    public List<int> Descendants()
    {
        var children = new Dictionary<int, List<int>>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                continue;
            }

            try
            {
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(ppid, out var list))
                {
                    children[ppid] = list = [];
                }

                list.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
            }
        }

        var result = new List<int>();
        var queue = new Queue<int>([_process.Id]);
        while (queue.TryDequeue(out int pid))
        {
            foreach (int child in children.GetValueOrDefault(pid) ?? [])
            {
                result.Add(child);
                queue.Enqueue(child);
            }
        }

        return result;
    }

    /// <summary>Proportional set size in kB (<c>/proc/PID/smaps_rollup</c>), 0 when the process is gone.</summary>
    public static long PssKb(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
            {
                if (line.StartsWith("Pss:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }

    private static long ProcStatus(int pid, string key)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"note: could not remove {DataDirectory}: {e.Message}");
        }
    }

    [GeneratedRegex(@"LANGSMITH_ENDPOINT=(\S+)")]
    private static partial Regex EndpointLine();
}
