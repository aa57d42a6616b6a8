using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Sandbox.AgentTools;
using Sandbox.Client;
using Sandbox.Server;

namespace Sandbox.Benchmarks.AgentTools;

/// <summary>
/// Stopwatch harness (BenchmarkDotNet's process-per-benchmark model is too slow against a live server on 2 cores):
/// each tool operation is measured next to the raw client call it wraps, in the same run, against the embedded server.
/// </summary>
internal static class ToolBenchmarks
{
    public static async Task<int> RunAsync(string[] args)
    {
        bool quick = args.Contains("--quick");
        int leaseIterations = quick ? 2_000 : 20_000;
        int callIterations = quick ? 100 : 500;

        Console.WriteLine("Starting the embedded local sandbox server...");
        await using LocalSandboxServer server = await LocalSandboxServer.StartAsync(null, CancellationToken.None);
        using var client = new SandboxClient(new SandboxClientOptions { Endpoint = server.Endpoint, ApiKey = server.ApiKey });
        await using var pool = new SandboxLeasePool(client, new SandboxPoolOptions { MinIdle = 1, MaxBoxes = 4 });
        await pool.WarmUpAsync();

        var rows = new List<(LatencyStats Measured, LatencyStats Baseline)>();

        // 1. Warm lease acquire (rent + return of a conversation's box) vs. looking the box up through the client.
        string boxName;
        await using (SandboxLease first = await pool.RentAsync("bench"))
        {
            boxName = first.Sandbox.Name;
        }

        var rent = new LatencyStats("lease: RentAsync+DisposeAsync (warm)");
        var lookup = new LatencyStats("raw: client.GetSandboxAsync(name)");
        for (int i = 0; i < leaseIterations / 10; i++)
        {
            await using (await pool.RentAsync("bench"))
            {
            }

            await client.GetSandboxAsync(boxName);
        }

        for (int i = 0; i < leaseIterations; i++)
        {
            long t = Stopwatch.GetTimestamp();
            SandboxLease lease = await pool.RentAsync("bench");
            await lease.DisposeAsync();
            rent.Add(t);
        }

        for (int i = 0; i < callIterations; i++)
        {
            long t = Stopwatch.GetTimestamp();
            await client.GetSandboxAsync(boxName);
            lookup.Add(t);
        }

        rows.Add((rent, lookup));

        // 2. run_code of a one-line python snippet on a warm lease vs. the raw stdin round trip it wraps.
        AIFunction runCode = SandboxTools.Create(pool, "bench").OfType<AIFunction>().Single(f => f.Name == "run_code");
        AIFunction runCodeNoTracking = SandboxTools.Create(pool, "bench", new SandboxToolOptions { TrackFileChanges = false })
            .OfType<AIFunction>().Single(f => f.Name == "run_code");
        var arguments = new AIFunctionArguments(new Dictionary<string, object?> { ["code"] = "1 + 1", ["language"] = "python" });
        await VerifyAsync(runCode, arguments);

        SandboxInstance box = client.GetSandbox((await client.GetSandboxAsync(boxName)).Info);
        await using RawRepl raw = await RawRepl.StartAsync(box);

        var tool = new LatencyStats("run_code python '1 + 1' (warm lease)");
        var toolNoTracking = new LatencyStats("run_code, TrackFileChanges=false");
        var rawRoundTrip = new LatencyStats("raw: SendInputAsync + read reply (persistent python)");
        var rawProcess = new LatencyStats("raw: RunAsync(\"python3 -c ...\") (process per call)");
        for (int i = 0; i < 20; i++)
        {
            await runCode.InvokeAsync(arguments);
            await runCodeNoTracking.InvokeAsync(arguments);
            await raw.EvalAsync("1 + 1");
        }

        for (int i = 0; i < callIterations; i++)
        {
            long t = Stopwatch.GetTimestamp();
            await runCode.InvokeAsync(arguments);
            tool.Add(t);

            t = Stopwatch.GetTimestamp();
            await runCodeNoTracking.InvokeAsync(arguments);
            toolNoTracking.Add(t);

            t = Stopwatch.GetTimestamp();
            await raw.EvalAsync("1 + 1");
            rawRoundTrip.Add(t);
        }

        for (int i = 0; i < Math.Min(callIterations, 50); i++)
        {
            long t = Stopwatch.GetTimestamp();
            await box.RunAsync("python3 -c 'print(1 + 1)'");
            rawProcess.Add(t);
        }

        rows.Add((tool, rawRoundTrip));
        rows.Add((toolNoTracking, rawRoundTrip));
        rows.Add((tool, rawProcess));

        Print(rows);
        return 0;
    }

    private static async Task VerifyAsync(AIFunction runCode, AIFunctionArguments arguments)
    {
        var result = (JsonElement)(await runCode.InvokeAsync(arguments))!;
        if (result.GetProperty("stdout").GetString() != "2\n")
        {
            throw new InvalidOperationException("run_code did not work: " + result.GetRawText());
        }
    }

    private static void Print(List<(LatencyStats Measured, LatencyStats Baseline)> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{"operation",-56} {"n",6} {"p50 ms",9} {"p90 ms",9} {"p99 ms",9} {"mean ms",9} | {"baseline",-56} {"p50 ms",9} {"ratio",7}");
        sb.AppendLine(new string('-', 180));
        foreach ((LatencyStats m, LatencyStats b) in rows)
        {
            double ratio = m.Percentile(50) / b.Percentile(50);
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"{m.Name,-56} {m.Count,6} {LatencyStats.Ms(m.Percentile(50)),9} {LatencyStats.Ms(m.Percentile(90)),9} {LatencyStats.Ms(m.Percentile(99)),9} {LatencyStats.Ms(m.Mean),9} | {b.Name,-56} {LatencyStats.Ms(b.Percentile(50)),9} {ratio.ToString(ratio < 0.1 ? "0.0000" : "0.00", CultureInfo.InvariantCulture),6}x");
        }

        Console.WriteLine(sb.ToString());
    }

    /// <summary>The raw client path run_code wraps: one line on a persistent interpreter's stdin, one reply line back.</summary>
    private sealed class RawRepl : IAsyncDisposable
    {
        private readonly CommandHandle _handle;
        private readonly IAsyncEnumerator<OutputChunk> _output;
        private readonly StringBuilder _pending = new();

        private RawRepl(CommandHandle handle)
        {
            _handle = handle;
            _output = handle.ReadOutputAsync().GetAsyncEnumerator();
        }

        public static async Task<RawRepl> StartAsync(SandboxInstance box)
        {
            CommandHandle handle = await box.StartCommandAsync(
                "exec python3 -u -c 'import sys\nfor line in sys.stdin:\n    print(eval(line), flush=True)'",
                new RunOptions { CloseStdin = false, Timeout = TimeSpan.Zero });
            return new RawRepl(handle);
        }

        public async Task<string> EvalAsync(string expression)
        {
            await _handle.SendInputAsync(expression + "\n");
            while (true)
            {
                string text = _pending.ToString();
                int newline = text.IndexOf('\n', StringComparison.Ordinal);
                if (newline >= 0)
                {
                    _pending.Remove(0, newline + 1);
                    return text[..newline];
                }

                if (!await _output.MoveNextAsync())
                {
                    throw new InvalidOperationException("The raw interpreter exited.");
                }

                if (_output.Current.Stream == OutputStreamKind.Stdout)
                {
                    _pending.Append(_output.Current.Data);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _handle.KillAsync();
            await _output.DisposeAsync();
            await _handle.DisposeAsync();
        }
    }
}
