using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Tests;

public sealed class PerfProbe(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Measure()
    {
        if (Environment.GetEnvironmentVariable("SANDBOX_PERF_PROBE") is not { Length: > 0 } output)
        {
            return;
        }

        var lines = new List<string>();
        var createFirst = new List<double>();
        for (int i = 0; i < 15; i++)
        {
            var sw = Stopwatch.StartNew();
            var box = await fixture.CreateBoxAsync();
            await fixture.RunWsAsync(box.Id!, "true");
            createFirst.Add(sw.Elapsed.TotalMilliseconds);
            await fixture.DeleteBoxAsync(box.Name);
        }

        var b = await fixture.CreateBoxAsync();
        int initPid = fixture.Server.Services.GetRequiredService<BoxManager>().Find(b.Id!)!.Running!.InitPid;
        var ws = new List<double>();
        var bare = new List<double>();
        for (int i = 0; i < 40; i++)
        {
            var sw = Stopwatch.StartNew();
            await fixture.RunWsAsync(b.Id!, "true");
            ws.Add(sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            using var p = Process.Start("nsenter", ["-t", initPid.ToString(), "-U", "-m", "-u", "-i", "-n", "-p", "--", "/bin/bash", "-c", "true"]);
            await p.WaitForExitAsync();
            bare.Add(sw.Elapsed.TotalMilliseconds);
        }

        lines.Add($"create->first command p50 {P50(createFirst):F1} ms");
        lines.Add($"ws run 'true' (connect+execute+exit) p50 {P50(ws):F2} ms; bare nsenter bash -c true from .NET p50 {P50(bare):F2} ms; load {File.ReadAllText("/proc/loadavg").Trim()}");
        File.WriteAllLines(output, lines);
    }

    private static double P50(List<double> v) => v.Order().ElementAt(v.Count / 2);
}
