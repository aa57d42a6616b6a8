namespace Sandbox.Benchmarks;

/// <summary>Dispatches to a benchmark suite by its first argument.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        string suite = args.Length > 0 ? args[0] : "";
        string[] rest = args.Length > 1 ? args[1..] : [];
        switch (suite)
        {
            case "tools":
                return await AgentTools.ToolBenchmarks.RunAsync(rest);
            case "server":
                return await Server.ServerBenchmarks.RunAsync(rest);
            case "all":
            case var scenario when Server.PerfBenchmarks.Scenarios.Contains(scenario):
                return await Server.PerfBenchmarks.RunAsync(suite, rest);
            default:
                Console.Error.WriteLine("usage: dotnet run -c Release --project benchmarks/Sandbox.Benchmarks -- <suite> [options]");
                Console.Error.WriteLine("suites:");
                Console.Error.WriteLine("  server  box create → first command and run(\"true\") round trip, next to bare bwrap and nsenter (--quick for fewer iterations)");
                Console.Error.WriteLine("  roundtrip | throughput | stdout | files | creates | idle | all");
                Console.Error.WriteLine("          against the standalone server, each with its same-run baseline and the official JS SDK interleaved");
                Console.Error.WriteLine("          (tests/conformance: npm ci); --quick for fewer repetitions, --no-js to skip the JS SDK");
                Console.Error.WriteLine("  tools   warm lease acquire and run_code on a warm lease, next to the raw client calls (--quick for fewer iterations)");
                return 2;
        }
    }
}
