using System.Globalization;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace Sandbox.Server.Tests.Isolation;

/// <summary>
/// A box's /sys shows its own facts, read-only: its cgroup limits at the usual paths and the CPU numbering files;
/// nothing of the host's device tree, nothing writable, no host path.
/// </summary>
public sealed class BoxSysViewTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const long Mem = 192L * 1024 * 1024;

    [Fact]
    public async Task TheBoxLimits_AreReadableAtTheUsualPaths_AndMatchTheCreateRequest()
    {
        Assert.True(Directory.Exists("/sys/fs/cgroup/memory"), "this test needs the cgroup v1 memory hierarchy (the v2 view is /sys/fs/cgroup)");
        var box = await fixture.CreateBoxAsync(new { wait_for_ready = true, mem_bytes = Mem, vcpus = 1 });
        try
        {
            var result = await fixture.ExecAsync(box.Id!,
                "for f in memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us pids/pids.max; do echo \"$f=$(cat /sys/fs/cgroup/$f)\"; done; "
                + "echo online=$(cat /sys/devices/system/cpu/online); echo possible=$(cat /sys/devices/system/cpu/possible); "
                + "echo sys=$(ls /sys | tr '\\n' ' '); echo cgroup=$(ls /sys/fs/cgroup | tr '\\n' ' '); echo cpu=$(ls /sys/devices/system/cpu | tr '\\n' ' '); "
                + "echo self=$(grep -E ':(memory|cpu|pids):' /proc/self/cgroup | tr '\\n' ' ')");
            var facts = Facts(result.Stdout);
            Assert.Equal(Mem.ToString(CultureInfo.InvariantCulture), facts["memory/memory.limit_in_bytes"]);
            Assert.Equal("100000", facts["cpu/cpu.cfs_quota_us"]);
            Assert.Equal("100000", facts["cpu/cpu.cfs_period_us"]);
            Assert.Equal("1024", facts["pids/pids.max"]);
            Assert.Equal(File.ReadAllText("/sys/devices/system/cpu/online").Trim(), facts["online"]);
            Assert.Equal(File.ReadAllText("/sys/devices/system/cpu/possible").Trim(), facts["possible"]);
            // Nothing else: no devices, block, class, firmware, kernel, module or bus trees.
            Assert.Equal("devices fs", facts["sys"]);
            Assert.Equal("cpu memory pids", facts["cgroup"]);
            Assert.Equal("kernel_max online possible present", facts["cpu"]);
            // The box's group is the root of its cgroup namespace, so the files above are the group's own.
            Assert.Matches("^([0-9]+:(memory|cpu|pids):/(c[0-9]+-[0-9a-f]{8})? ?){3}$", facts["self"]);

            // A second box with other limits sees its own.
            var other = await fixture.CreateBoxAsync(new { wait_for_ready = true, mem_bytes = 2 * Mem, vcpus = 2 });
            var seen = await fixture.ExecAsync(other.Id!, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us");
            Assert.Equal($"{2 * Mem}\n200000\n", seen.Stdout);
            await fixture.DeleteBoxAsync(other.Name);
        }
        finally
        {
            await fixture.DeleteBoxAsync(box.Name);
        }
    }

    [Fact]
    public async Task TheSysView_CannotBeWritten_Remounted_OrUnmounted_AndShowsNoHostPath()
    {
        Assert.True(Directory.Exists("/sys/fs/cgroup/memory"), "this test needs the cgroup v1 memory hierarchy");
        var box = await fixture.CreateBoxAsync(new { wait_for_ready = true, mem_bytes = Mem, vcpus = 1 });
        try
        {
            string[] attempts =
            [
                "echo 4294967296 > /sys/fs/cgroup/memory/memory.limit_in_bytes",
                "echo -1 > /sys/fs/cgroup/cpu/cpu.cfs_quota_us",
                "echo max > /sys/fs/cgroup/pids/pids.max",
                "echo 1 > /sys/fs/cgroup/memory/memory.force_empty",
                "mkdir /sys/fs/cgroup/memory/escape",
                "echo $$ > /sys/fs/cgroup/memory/cgroup.procs",
                "echo 0 > /sys/devices/system/cpu/online",
                "touch /sys/planted",
                "mkdir /sys/block",
                "mount -o remount,rw /sys",
                "mount -o remount,rw /sys/fs/cgroup/memory",
                "mount -o remount,rw,bind /sys/fs/cgroup/memory",
                "umount /sys/fs/cgroup/memory",
                "umount -l /sys",
                "mount -t sysfs sysfs /mnt",
                "mount -t tmpfs none /sys/fs/cgroup",
            ];
            string script = string.Join("; ", attempts.Select((a, i) => $"( {a} ) 2>/dev/null && echo SUCCEEDED-{i}"))
                + "; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us; ls /sys; "
                + "echo ---; cat /proc/self/mountinfo; echo ---; cat /proc/self/cgroup";
            var result = await fixture.ExecAsync(box.Id!, script);
            Assert.DoesNotContain("SUCCEEDED", result.Stdout, StringComparison.Ordinal);
            string[] parts = result.Stdout.Split("---\n");
            Assert.Equal($"{Mem}\n100000\ndevices\nfs\n", parts[0]);

            // The host's files are unchanged.
            string owner = Sandbox.Server.Runtime.CgroupController.OwnerGroup;
            Assert.Equal(Mem.ToString(CultureInfo.InvariantCulture), File.ReadAllText($"/sys/fs/cgroup/memory/sandbox-server/{owner}/{box.Id}/memory.limit_in_bytes").Trim());
            Assert.Equal("100000", File.ReadAllText($"/sys/fs/cgroup/cpu/sandbox-server/{owner}/{box.Id}/cpu.cfs_quota_us").Trim());
            Assert.False(Directory.Exists($"/sys/fs/cgroup/memory/sandbox-server/{owner}/{box.Id}/escape"));

            // Every /sys mount is read-only, and none names a host path (the cgroup roots are "/": the box's own group).
            var sysMounts = parts[1].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).Where(f => f[4] == "/sys" || f[4].StartsWith("/sys/", StringComparison.Ordinal)).ToList();
            Assert.True(sysMounts.Count >= 5, parts[1]);
            Assert.All(sysMounts, f => Assert.StartsWith("ro", f[5], StringComparison.Ordinal));
            Assert.All(sysMounts.Where(f => f[4].StartsWith("/sys/fs/cgroup/", StringComparison.Ordinal)), f => Assert.Equal("/", f[3]));
            string everything = parts[1] + parts[2];
            Assert.DoesNotContain(fixture.Server.DataDirectory, everything, StringComparison.Ordinal);
            Assert.DoesNotContain("sandbox-server", everything, StringComparison.Ordinal);
            Assert.DoesNotContain(box.Id!, everything, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.DeleteBoxAsync(box.Name);
        }
    }

    [Fact]
    public async Task DotNet_InABox_SizesItselfFromTheBoxLimits()
    {
        Assert.True(Environment.ProcessorCount > 1, "this test needs a host with more than one CPU (the box gets one)");
        // The host-folder snapshot, which has this machine's dotnet (the Debian default has none).
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions
        {
            Configure = o =>
            {
                o.WarmBoxes = 0;
                o.DefaultSnapshot = DefaultSnapshotKind.Host;
            },
        });
        using var http = new HttpClient { BaseAddress = server.LangSmithEndpoint, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);
        using var client = server.CreateClient();
        await using var sandbox = await client.CreateSandboxAsync(new Sandbox.Client.CreateSandboxOptions { MemBytes = 256L * 1024 * 1024, Vcpus = 1 });
        var box = sandbox.Info;
        {
            Assert.Equal(0, (await sandbox.RunAsync("command -v dotnet")).ExitCode);
            // A tiny program (emitted here, no build step) printing what the runtime derived from its cgroups.
            using (var dll = await http.PostAsync($"/dp/{box.Id}/upload?path=/home/user/probe/probe.dll", new ByteArrayContent(EmitProbe())))
            {
                dll.EnsureSuccessStatusCode();
            }

            string config = "{\"runtimeOptions\":{\"tfm\":\"net10.0\",\"framework\":{\"name\":\"Microsoft.NETCore.App\",\"version\":\"" + Environment.Version + "\"}}}";
            using (var json = await http.PostAsync($"/dp/{box.Id}/upload?path=/home/user/probe/probe.runtimeconfig.json", new StringContent(config)))
            {
                json.EnsureSuccessStatusCode();
            }

            var result = await sandbox.RunAsync("cd /home/user/probe && DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet probe.dll", new Sandbox.Client.RunOptions { Timeout = TimeSpan.FromMinutes(2) });
            string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 2, $"exit {result.ExitCode}: {result.Stdout} {result.Stderr}");
            Assert.Equal("1", lines[0]); // Environment.ProcessorCount from cpu.cfs_quota_us / cpu.cfs_period_us
            long available = long.Parse(lines[1], CultureInfo.InvariantCulture);
            Assert.True(available <= 256L * 1024 * 1024, $"the GC sees {available} bytes (the box has 256 MiB)");
        }
    }

    /// <summary>An executable assembly printing Environment.ProcessorCount and GC.GetGCMemoryInfo().TotalAvailableMemoryBytes.</summary>
    private static byte[] EmitProbe()
    {
        var assembly = new PersistedAssemblyBuilder(new AssemblyName("probe"), typeof(object).Assembly);
        var type = assembly.DefineDynamicModule("probe").DefineType("Probe", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed);
        var main = type.DefineMethod("Main", MethodAttributes.Public | MethodAttributes.Static, typeof(void), Type.EmptyTypes);
        var il = main.GetILGenerator();
        var info = il.DeclareLocal(typeof(GCMemoryInfo));
        il.Emit(OpCodes.Call, typeof(Environment).GetProperty(nameof(Environment.ProcessorCount))!.GetMethod!);
        il.Emit(OpCodes.Call, typeof(Console).GetMethod(nameof(Console.WriteLine), [typeof(int)])!);
        il.Emit(OpCodes.Call, typeof(GC).GetMethod(nameof(GC.GetGCMemoryInfo), Type.EmptyTypes)!);
        il.Emit(OpCodes.Stloc, info);
        il.Emit(OpCodes.Ldloca, info);
        il.Emit(OpCodes.Call, typeof(GCMemoryInfo).GetProperty(nameof(GCMemoryInfo.TotalAvailableMemoryBytes))!.GetMethod!);
        il.Emit(OpCodes.Call, typeof(Console).GetMethod(nameof(Console.WriteLine), [typeof(long)])!);
        il.Emit(OpCodes.Ret);
        type.CreateType();
        var metadata = assembly.GenerateMetadata(out var ilStream, out var fieldData);
        var pe = new ManagedPEBuilder(PEHeaderBuilder.CreateExecutableHeader(), new MetadataRootBuilder(metadata), ilStream, fieldData,
            entryPoint: MetadataTokens.MethodDefinitionHandle(main.MetadataToken));
        var blob = new BlobBuilder();
        pe.Serialize(blob);
        return blob.ToArray();
    }

    private static Dictionary<string, string> Facts(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim(), StringComparer.Ordinal);
}
