using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Tests.Runtime;

/// <summary>
/// The cgroup v2 code path. This machine binds memory, cpu and pids to v1, so no v2 hierarchy with those controllers
/// can exist here: the limit files are checked against a folder laid out like a cgroup2 root, and the group lifecycle
/// (owner group, init and command groups, cgroup.kill, removal, dead-server cleanup) runs against the real cgroup2
/// hierarchy this machine mounts without controllers (<c>/sys/fs/cgroup/unified</c>).
/// </summary>
public sealed class CgroupV2Tests : IDisposable
{
    private const string Unified = "/sys/fs/cgroup/unified";
    private readonly string _fake = Directory.CreateTempSubdirectory("cgroup2-layout-").FullName;
    private readonly List<Process> _processes = [];

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
        }

        Directory.Delete(_fake, recursive: true);
    }

    private static HostCapabilities V2Host(bool controllers) => new()
    {
        IsRoot = true,
        BwrapPath = null,
        NsenterPath = null,
        UnsharePath = null,
        Cgroups = CgroupMode.V2,
        Memory = controllers,
        Cpu = controllers,
        Pids = controllers,
        LoopDisks = false,
        MkfsPath = null,
        ScriptPath = null,
    };

    [Fact]
    public void Limits_AreWrittenToTheV2Files_OfTheBoxGroup()
    {
        File.WriteAllText(Path.Combine(_fake, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
        var controller = new CgroupController(V2Host(controllers: true), pidsLimit: 321, cgroupRoot: _fake);
        var cgroup = controller.CreateBoxGroup("box-a", 256L * 1024 * 1024, 2)!;
        string owner = Path.Combine(_fake, CgroupController.RootGroup, CgroupController.OwnerGroup);
        string box = Path.Combine(owner, "box-a");
        Assert.Equal("268435456", Read(box, "memory.max"));
        Assert.Equal("0", Read(box, "memory.swap.max"));
        Assert.Equal("200000 100000", Read(box, "cpu.max"));
        Assert.Equal("321", Read(box, "pids.max"));
        // Controllers are enabled down the path, so the box group and its children can carry limits.
        foreach (string dir in (string[])[_fake, Path.Combine(_fake, CgroupController.RootGroup), owner, box])
        {
            Assert.Equal("+memory +cpu +pids", Read(dir, "cgroup.subtree_control"));
        }

        // Processes live only in leaves (v2's no-internal-process rule): the init joins box-a/init.
        Assert.Equal([Path.Combine(box, "init", "cgroup.procs")], cgroup.InitJoinFiles);
        Assert.Equal([new BoxBindMount(box, "/sys/fs/cgroup")], cgroup.Views);
        var command = cgroup.RentCommandGroup();
        string commandJoin = Assert.Single(command.JoinFiles);
        Assert.Matches("^c1-[0-9a-f]{8}$", Path.GetFileName(Path.GetDirectoryName(commandJoin)));
        Assert.Equal(box, Path.GetDirectoryName(Path.GetDirectoryName(commandJoin)));

        File.WriteAllText(Path.Combine(box, "memory.events"), "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n");
        Assert.Equal(2, cgroup.OomKillCount());

        Assert.True(controller.UpdateLimits("box-a", 512L * 1024 * 1024, 1));
        Assert.Equal("536870912", Read(box, "memory.max"));
        Assert.Equal("100000 100000", Read(box, "cpu.max"));
    }

    [Fact]
    public async Task GroupLifecycle_OnARealCgroup2Hierarchy_InitCommandKillAndRemoval()
    {
        Assert.True(File.Exists(Path.Combine(Unified, "cgroup.procs")), $"this test needs a cgroup2 hierarchy at {Unified}");
        var controller = new CgroupController(V2Host(controllers: false), pidsLimit: 1024, cgroupRoot: Unified);
        string boxId = "v2test-" + Guid.NewGuid().ToString("N")[..8];
        string box = Path.Combine(Unified, CgroupController.RootGroup, CgroupController.OwnerGroup, boxId);
        var cgroup = controller.CreateBoxGroup(boxId, null, null)!;
        try
        {
            Assert.True(Directory.Exists(Path.Combine(box, "init")));
            var init = Start("600");
            File.WriteAllText(cgroup.InitJoinFiles[0], init.Id.ToString(CultureInfo.InvariantCulture));
            Assert.Contains($"0::/{CgroupController.RootGroup}/{CgroupController.OwnerGroup}/{boxId}/init", File.ReadAllText($"/proc/{init.Id}/cgroup"), StringComparison.Ordinal);

            // A command group: its process tree is killed at once with cgroup.kill.
            var command = cgroup.RentCommandGroup();
            Assert.True(command.CanKillTree);
            var first = Start("601");
            var second = Start("602");
            File.WriteAllText(command.JoinFiles[0], first.Id.ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(command.JoinFiles[0], second.Id.ToString(CultureInfo.InvariantCulture));
            Assert.False(command.IsEmpty());
            command.KillAll();
            Assert.True(first.WaitForExit(10_000) && second.WaitForExit(10_000), "cgroup.kill did not end the command's processes");
            await WaitUntilAsync(command.IsEmpty, "the command group to empty");
            cgroup.Return(command);
            Assert.Same(command, cgroup.RentCommandGroup()); // an empty group is reused

            // Removing the box's groups kills what is left (the init) and removes every group.
            await cgroup.DeleteAsync();
            Assert.True(init.WaitForExit(10_000), "the init survived the removal of its group");
            Assert.False(Directory.Exists(box), "the box group stayed");
            controller.RemoveOwnGroupIfEmpty();
        }
        finally
        {
            await cgroup.DeleteAsync();
        }
    }

    [Fact]
    public void RemoveStaleGroups_OnCgroup2_KillsAndRemovesADeadServersGroups_AndLeavesALiveServersAlone()
    {
        Assert.True(File.Exists(Path.Combine(Unified, "cgroup.procs")), $"this test needs a cgroup2 hierarchy at {Unified}");
        var controller = new CgroupController(V2Host(controllers: false), pidsLimit: 1024, cgroupRoot: Unified);
        string root = Path.Combine(Unified, CgroupController.RootGroup);

        // A dead server: a pid that has exited, with a start time that cannot match.
        using var gone = Process.Start("true")!;
        gone.WaitForExit();
        string dead = Path.Combine(root, $"server-{gone.Id.ToString(CultureInfo.InvariantCulture)}-1", "box", "c1-00000000");
        Directory.CreateDirectory(dead);
        var straggler = Start("603");
        File.WriteAllText(Path.Combine(dead, "cgroup.procs"), straggler.Id.ToString(CultureInfo.InvariantCulture));

        // A live server (another process of this test), with a process in its group.
        var liveServer = Start("604");
        string live = Path.Combine(root, "server-" + CgroupController.OwnerTag(liveServer.Id), "box");
        Directory.CreateDirectory(live);
        File.WriteAllText(Path.Combine(live, "cgroup.procs"), liveServer.Id.ToString(CultureInfo.InvariantCulture));
        try
        {
            Assert.True(controller.RemoveStaleGroups(TimeSpan.FromMinutes(2)) >= 3);
            Assert.True(straggler.WaitForExit(10_000), "a process left in a dead server's group survived");
            Assert.False(Directory.Exists(Path.GetDirectoryName(Path.GetDirectoryName(dead))), "the dead server's groups stayed");
            Assert.True(Directory.Exists(live), "a live server's group was removed");
            Assert.False(liveServer.HasExited, "a live server's process was killed");
        }
        finally
        {
            File.WriteAllText(Path.Combine(Unified, "cgroup.procs"), liveServer.Id.ToString(CultureInfo.InvariantCulture));
            Directory.Delete(live);
            Directory.Delete(Path.GetDirectoryName(live)!);
        }
    }

    [Fact]
    public async Task ABox_OnTheCgroup2Hierarchy_RunsInItsGroups_SeesItsGroupAsSys_AndLeavesNothing()
    {
        Assert.True(File.Exists(Path.Combine(Unified, "cgroup.procs")), $"this test needs a cgroup2 hierarchy at {Unified}");
        var host = HostCapabilities.Probe(Unified);
        Assert.Equal(CgroupMode.V2, host.Cgroups);
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions
        {
            Configure = o => o.WarmBoxes = 0,
            ConfigureServices = services => services.AddSingleton(host),
        });
        using var client = server.CreateClient();
        var box = await client.CreateSandboxAsync();
        string group = Path.Combine(Unified, CgroupController.RootGroup, CgroupController.OwnerGroup, box.Info.Id!);

        // The launcher and init in box/init, each command in its own leaf; inside, the init's group is "/".
        var result = await box.RunAsync("grep '^0::' /proc/1/cgroup; grep '^0::' /proc/self/cgroup; grep ' /sys/fs/cgroup ' /proc/self/mountinfo; ls /sys/fs/cgroup | grep -c '^c[0-9]'; (sleep 777 &); echo started");
        string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("0::/", lines[0]);
        Assert.Matches("^0::/\\.\\./c[0-9]+-[0-9a-f]{8}$", lines[1]);
        Assert.Matches("^[0-9]+ [0-9]+ [0-9:]+ /\\.\\. /sys/fs/cgroup ro,.* - cgroup2 ", lines[2]);
        Assert.True(int.Parse(lines[3], CultureInfo.InvariantCulture) >= 1, result.Stdout);
        Assert.DoesNotContain(CgroupController.RootGroup, result.Stdout, StringComparison.Ordinal);
        Assert.True(File.ReadAllLines(Path.Combine(group, "init", "cgroup.procs")).Length >= 2, "the box's init is not in box/init");

        // A command that times out is killed with its whole tree through cgroup.kill.
        var timedOut = await Assert.ThrowsAnyAsync<Sandbox.Client.SandboxException>(() =>
            box.RunAsync("sleep 888 & sleep 889", new Sandbox.Client.RunOptions { Timeout = TimeSpan.FromSeconds(2) }));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await box.RunAsync("ps -eo args | grep -c '[s]leep 88'")).Stdout != "0\n" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.Equal("0\n", (await box.RunAsync("ps -eo args | grep -c '[s]leep 88'")).Stdout);
        Assert.Equal("1\n", (await box.RunAsync("ps -eo args | grep -c '[s]leep 777'")).Stdout); // a background process of an ended command stays

        await box.DeleteAsync();
        await server.Services.GetRequiredService<BoxManager>().WhenTeardownsDoneAsync().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.False(Directory.Exists(group), "the box's cgroup2 group stayed after delete");
    }

    private Process Start(string seconds)
    {
        var process = Process.Start(new ProcessStartInfo("sleep", seconds) { UseShellExecute = false })!;
        _processes.Add(process);
        return process;
    }

    private static string Read(string dir, string file) => File.ReadAllText(Path.Combine(dir, file)).Trim();

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }
}
