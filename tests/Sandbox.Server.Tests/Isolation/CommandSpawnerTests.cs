using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Tests.Isolation;

/// <summary>
/// The box's command spawner (<c>sandbox-box-exec --serve</c>) attacked from inside a real box and checked from the
/// host: it runs as the box's root with the box's restrictions, outside the box's pid namespace (invisible, not
/// signalable), its channel is out of the box's reach, the commands it starts are box processes like any other, and
/// when it dies commands neither hang nor stop working.
/// </summary>
public sealed class CommandSpawnerTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string KeptCapabilities = "00000000a00425fb";

    private RunningBox Running(string boxId) =>
        fixture.Server.Services.GetRequiredService<BoxManager>().Find(boxId)!.Running!;

    private static Dictionary<string, string> Status(int pid) =>
        File.ReadAllLines($"/proc/{pid}/status").Select(l => l.Split(':', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => string.Join(' ', p[1].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries)));

    private static string Ns(int pid, string name) => new FileInfo($"/proc/{pid}/ns/{name}").LinkTarget!;

    [Fact]
    public async Task Spawner_IsTheBoxRoot_WithTheBoxRestrictions_OutsideTheBoxPidNamespace()
    {
        var box = await fixture.CreateBoxAsync();
        var running = Running(box.Id!);
        Assert.NotNull(running.Spawner);
        int spawner = running.Spawner!.HostPid;
        var status = Status(spawner);
        var init = Status(running.InitPid);
        Assert.Equal(init["Uid"], status["Uid"]); // the box's root: the base of the box's id range, never host root
        Assert.NotEqual("0 0 0 0", status["Uid"]);
        Assert.Equal(init["Gid"], status["Gid"]);
        Assert.Equal(KeptCapabilities, status["CapBnd"]);
        Assert.Equal(KeptCapabilities, status["CapEff"]);
        Assert.Equal("0000000000000000", status["CapInh"]);
        Assert.Equal("0000000000000000", status["CapAmb"]);
        Assert.Equal("1", status["NoNewPrivs"]);
        Assert.Equal("2", status["Seccomp"]);
        Assert.Single(status["NSpid"].Split(' ')); // a host pid only: no pid inside the box
        Assert.Equal(Ns(Environment.ProcessId, "pid"), Ns(spawner, "pid"));
        foreach (string ns in (string[])["mnt", "net", "ipc", "uts", "user", "cgroup", "pid_for_children"])
        {
            Assert.Equal(Ns(running.InitPid, ns == "pid_for_children" ? "pid" : ns), Ns(spawner, ns));
        }

        // Not dumpable: its /proc files belong to host root, not to its own (box) uid, so no box process can open them.
        Assert.Equal(0, LinuxFileOwner($"/proc/{spawner}/environ"));
        Assert.Equal(0, LinuxFileOwner($"/proc/{spawner}/fd"));
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task TheBox_CannotSee_Signal_OrReachTheSpawner()
    {
        var box = await fixture.CreateBoxAsync();
        var running = Running(box.Id!);
        int spawner = running.Spawner!.HostPid;
        string socket = Directory.GetFiles($"/proc/{spawner}/fd").Select(f => new FileInfo(f).LinkTarget ?? "")
            .Single(t => t.StartsWith("socket:[", StringComparison.Ordinal));
        string inode = socket["socket:[".Length..^1];
        string pid = spawner.ToString(CultureInfo.InvariantCulture);

        // Every process the box can see, with its command line and descriptors; the spawner's host pid named directly;
        // the box's unix sockets; then box root kills everything it can signal.
        var look = await fixture.ExecAsync(box.Id!,
            "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done; "
            + $"ls -l /proc/[0-9]*/fd/ 2>/dev/null | grep -c 'socket:\\[{inode}\\]'; "
            + $"cat /proc/net/unix | grep -c ' {inode} '; "
            + $"kill -0 {pid} 2>&1; cat /proc/{pid}/cmdline 2>&1 | tr '\\0' ' '; echo; "
            + $"python3 -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); r=l.ptrace(16,{pid},0,0); print(\"ptrace\",r,ctypes.get_errno())'");
        Assert.DoesNotContain("--serve", look.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("sandbox-box-exec", look.Stdout, StringComparison.Ordinal);
        Assert.Contains("\n0\n0\n", look.Stdout, StringComparison.Ordinal); // its socket: in no box process, not in the box's network namespace
        Assert.Contains("ptrace -1 3", look.Stdout, StringComparison.Ordinal); // ESRCH: no such process in the box

        // Its host pid and every process whose command line looks like it: nothing to hit.
        var kill = await fixture.ExecAsync(box.Id!,
            $"kill -9 {pid} 2>&1; for p in /proc/[0-9]*; do case \"$(tr '\\0' ' ' < $p/cmdline)\" in *--ser[v]e*) kill -9 ${{p#/proc/}} && echo hit;; esac; done; echo done");
        Assert.Contains("No such process", kill.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("hit", kill.Stdout, StringComparison.Ordinal);
        Assert.True(running.Spawner.IsAlive);
        Assert.False(System.Diagnostics.Process.GetProcessById(spawner).HasExited);
        var after = await fixture.ExecAsync(box.Id!, "echo still-serving");
        Assert.Equal("still-serving\n", after.Stdout);
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task ACommand_IsABoxProcess_InTheBoxCgroups_StartedByTheSpawner()
    {
        var box = await fixture.CreateBoxAsync(new { wait_for_ready = true, run_config = new { user = "1000:1000" } });
        var running = Running(box.Id!);
        int spawner = running.Spawner!.HostPid;
        using var socket = await fixture.ConnectAsync(box.Id!);
        await ServerFixture.SendAsync(socket, new { type = "execute", command = "exec sleep 30", command_id = Guid.NewGuid().ToString("N") });
        int command = 0;
        for (int i = 0; i < 100 && command == 0; i++)
        {
            await Task.Delay(50);
            command = File.ReadAllText($"/proc/{spawner}/task/{spawner}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => int.Parse(p, CultureInfo.InvariantCulture))
                .FirstOrDefault(p => File.ReadAllText($"/proc/{p}/cmdline").StartsWith("sleep\0", StringComparison.Ordinal));
        }

        Assert.NotEqual(0, command);
        var status = Status(command);
        var init = Status(running.InitPid);
        int boxBase = int.Parse(init["Uid"].Split(' ')[0], CultureInfo.InvariantCulture);
        string user = (boxBase + 1000).ToString(CultureInfo.InvariantCulture);
        Assert.Equal($"{user} {user} {user} {user}", status["Uid"]);
        Assert.Equal($"{user} {user} {user} {user}", status["Gid"]);
        Assert.Equal("0000000000000000", status["CapEff"]);
        Assert.Equal("0000000000000000", status["CapBnd"]);
        Assert.Equal("1", status["NoNewPrivs"]);
        Assert.Equal("2", status["Seccomp"]);
        Assert.Equal(2, status["NSpid"].Split(' ').Length); // a pid in the box's pid namespace
        Assert.Equal(status["NSpid"], status["NSsid"]); // its own session
        foreach (string ns in (string[])["pid", "mnt", "net", "ipc", "uts", "user", "cgroup"])
        {
            Assert.Equal(Ns(running.InitPid, ns), Ns(command, ns));
        }

        // In a cgroup of the box (a command group below the box's own group on every controller the box uses).
        var boxGroups = File.ReadAllLines($"/proc/{running.InitPid}/cgroup").Where(l => l.Split(':')[2] != "/").ToList();
        var commandGroups = File.ReadAllLines($"/proc/{command}/cgroup");
        Assert.NotEmpty(boxGroups);
        foreach (string line in boxGroups)
        {
            string[] parts = line.Split(':', 3);
            Assert.Contains(commandGroups, l => l.Split(':', 3) is [var id, var controllers, var path] && id == parts[0]
                && (path.StartsWith(parts[2] + "/", StringComparison.Ordinal) || (path == parts[2] && !controllers.Contains("pids", StringComparison.Ordinal))));
        }

        socket.Abort();
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task WhenTheSpawnerDies_RunningCommandsEnd_AndNewCommandsStillRun()
    {
        var box = await fixture.CreateBoxAsync();
        var running = Running(box.Id!);
        int spawner = running.Spawner!.HostPid;
        using var socket = await fixture.ConnectAsync(box.Id!);
        await ServerFixture.SendAsync(socket, new { type = "execute", command = "echo begun; sleep 60", command_id = Guid.NewGuid().ToString("N") });
        var first = await ServerFixture.ReceiveAsync(socket, TimeSpan.FromSeconds(30));
        Assert.NotNull(first);
        Assert.Equal(0, Sandbox.Server.Files.LibC.Kill(spawner, 9));
        var started = DateTime.UtcNow;
        var frames = await ServerFixture.ReadToEndAsync(socket, TimeSpan.FromSeconds(20));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), "the command did not end after its spawner died");
        Assert.Contains(frames, f => f.Type is "exit" or "error");
        Assert.False(running.Spawner.IsAlive);
        var after = await fixture.ExecAsync(box.Id!, "echo fallback");
        Assert.Equal("fallback\n", after.Stdout);
        Assert.Equal(0, after.ExitCode);
        await fixture.DeleteBoxAsync(box.Name);
    }

    private static int LinuxFileOwner(string path)
    {
        Assert.Equal(0, Sandbox.Server.Files.LibC.Statx(Sandbox.Server.Files.LibC.AT_FDCWD, path, 0, out var status));
        return (int)status.Uid;
    }
}
