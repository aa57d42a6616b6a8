using Microsoft.Extensions.DependencyInjection;
using Sandbox.Client;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Tests.Runtime;

public sealed class UnenforcedLimitsTests
{
    [Fact]
    public async Task LimitsTheHostCannotEnforce_AreReportedOnTheBox_NeverSilentlyDropped()
    {
        var real = HostCapabilities.Probe();
        var limited = new HostCapabilities
        {
            IsRoot = real.IsRoot,
            BwrapPath = real.BwrapPath,
            NsenterPath = real.NsenterPath,
            UnsharePath = real.UnsharePath,
            SetprivPath = real.SetprivPath,
            BoxExecPath = real.BoxExecPath,
            Cgroups = real.Cgroups,
            Memory = real.Memory,
            Cpu = false,
            Pids = real.Pids,
            LoopDisks = false,
            MkfsPath = null,
            ScriptPath = real.ScriptPath,
        };
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions
        {
            ConfigureServices = services => services.AddSingleton(limited),
        });
        Assert.Contains("vcpus", server.UnenforcedLimits);
        using var client = server.CreateClient();
        await using var box = await client.CreateSandboxAsync(new CreateSandboxOptions { FsCapacityBytes = 64L * 1024 * 1024 });
        Assert.Equal(["vcpus", "fs_capacity_bytes"], box.Info.UnenforcedLimits);
        Assert.Contains("not enforced", box.Info.StatusMessage, StringComparison.Ordinal);
        Assert.Contains("fs_capacity_bytes", box.Info.StatusMessage, StringComparison.Ordinal);
        Assert.Equal("ok\n", (await box.RunAsync("echo ok")).Stdout);
    }
}
