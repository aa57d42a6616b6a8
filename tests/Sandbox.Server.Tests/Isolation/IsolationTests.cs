using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Isolation;

/// <summary>Escape attempts: each asserts the box stays contained and the server keeps serving.</summary>
public sealed class IsolationTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private async Task AssertServerHealthyAsync()
    {
        var box = await fixture.CreateBoxAsync();
        Assert.Equal("ok\n", (await fixture.ExecAsync(box.Id!, "echo ok")).Stdout);
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task HostFilesOutsideTheSnapshot_AreInvisible()
    {
        var box = await fixture.CreateBoxAsync();
        string marker = "host-only-" + Guid.NewGuid().ToString("N");
        string hostSecret = Path.Combine(Path.GetTempPath(), marker);
        string hostEtcFile = Path.Combine("/etc", marker);
        await File.WriteAllTextAsync(hostSecret, "secret");
        await File.WriteAllTextAsync(hostEtcFile, "secret");
        try
        {
            // The default snapshot is its own root filesystem: neither the host's data folders nor a file only the host's
            // /tmp and /etc have are visible, and the box's /etc/shadow (if any) is not the host's.
            string script = $"ls {fixture.Server.DataDirectory} 2>&1; ls /root/.pyenv 2>&1; ls /work 2>&1; cat {hostSecret} 2>&1; cat {hostEtcFile} 2>&1; sha256sum /etc/shadow 2>&1";
            var result = await fixture.ExecAsync(box.Id!, script);
            Assert.DoesNotContain("secret", result.Stdout.Replace(marker, "", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.Equal(5, result.Stdout.Split('\n').Count(l => l.Contains("No such file or directory", StringComparison.Ordinal)));
            string hostShadow = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync("/etc/shadow")));
            Assert.DoesNotContain(hostShadow, result.Stdout, StringComparison.Ordinal);
            Assert.Equal("2\n", (await fixture.ExecAsync(box.Id!, "python3 -c 'print(2)'")).Stdout);
        }
        finally
        {
            File.Delete(hostSecret);
            File.Delete(hostEtcFile);
            await fixture.DeleteBoxAsync(box.Name);
        }
    }

    [Fact]
    public async Task RootInsideTheBox_HasNoHostPrivileges()
    {
        var box = await fixture.CreateBoxAsync();
        var result = await fixture.ExecAsync(box.Id!, "mknod /tmp/disk b 8 0 2>&1 && echo MKNOD-OK; cat /proc/self/uid_map; mount -t proc proc /mnt 2>/dev/null; echo 1 > /proc/sys/kernel/sysrq 2>&1 || echo sysrq-denied");
        Assert.DoesNotContain("MKNOD-OK", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("sysrq-denied", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("65536", result.Stdout, StringComparison.Ordinal);
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task OtherBoxes_FilesAndProcesses_AreInvisible()
    {
        var a = await fixture.CreateBoxAsync();
        var b = await fixture.CreateBoxAsync();
        await fixture.ExecAsync(a.Id!, "echo mine > /home/user/private.txt; (sleep 777 &)");
        var seen = await fixture.ExecAsync(b.Id!, "cat /home/user/private.txt 2>&1; ps -eo args | grep -c '[s]leep 777'");
        Assert.Contains("No such file", seen.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("0\n", seen.Stdout, StringComparison.Ordinal);
        var own = await fixture.ExecAsync(a.Id!, "ps -eo args | grep -c '[s]leep 777'");
        Assert.Equal("1\n", own.Stdout);
        await fixture.DeleteBoxAsync(a.Name);
        await fixture.DeleteBoxAsync(b.Name);
    }

    [Fact]
    public async Task HostLoopback_IsUnreachable_AndTheBoxHasOnlyLo()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var box = await fixture.CreateBoxAsync();
        var result = await fixture.ExecAsync(box.Id!,
            $"timeout 3 bash -c 'echo hi > /dev/tcp/127.0.0.1/{port}' 2>/dev/null && echo CONNECTED || echo refused; ip -o link | awk -F': ' '{{print $2}}'; tail -n +2 /proc/net/route | wc -l");
        Assert.Contains("refused", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("CONNECTED", result.Stdout, StringComparison.Ordinal);
        Assert.False(listener.Pending());
        string[] lines = result.Stdout.Trim().Split('\n');
        Assert.Equal(["refused", "lo", "0"], lines);
        await fixture.DeleteBoxAsync(box.Name);
        await AssertServerHealthyAsync();
    }

    [Fact]
    public async Task ForkBomb_HitsThePidsLimit_AndIsCleanedUpByKill()
    {
        // A server with a small pids limit, so the bomb reaches it in seconds even on a loaded machine (forks then take
        // up to ~150 ms each here, and 1,024 of them took minutes); the mechanism is the same for the default 1,024.
        const int Limit = 64;
        Assert.True(Directory.Exists("/sys/fs/cgroup/pids") || File.Exists("/sys/fs/cgroup/cgroup.controllers"), "this test needs the pids controller");
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => { o.PidsLimit = Limit; o.WarmBoxes = 0; } });
        using var client = server.CreateClient();
        await using var box = await client.CreateSandboxAsync();
        await using var other = await client.CreateSandboxAsync();
        string owner = Sandbox.Server.Runtime.CgroupController.OwnerGroup;
        string group = Directory.Exists("/sys/fs/cgroup/pids")
            ? $"/sys/fs/cgroup/pids/sandbox-server/{owner}/{box.Info.Id}"
            : $"/sys/fs/cgroup/sandbox-server/{owner}/{box.Info.Id}";
        Assert.Equal(Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(group, "pids.max")).Trim());
        int idle = ProcessesIn(group); // the box's launcher, its init and the init's sleep

        await using var bomb = await box.StartCommandAsync(
            "python3 -c \"import os,time\nn=0\ntry:\n    while True:\n        if os.fork()==0:\n            time.sleep(600); os._exit(0)\n        n+=1\nexcept OSError as e:\n    print(n, e.errno, flush=True)\ntime.sleep(600)\"",
            new Sandbox.Client.RunOptions { Timeout = TimeSpan.FromMinutes(10) });
        string printed = "";
        using (var wait = new CancellationTokenSource(TimeSpan.FromMinutes(4)))
        {
            await foreach (var chunk in bomb.ReadOutputAsync(wait.Token))
            {
                printed += chunk.Data;
                if (printed.Contains('\n', StringComparison.Ordinal))
                {
                    break;
                }
            }
        }

        // fork failed with EAGAIN before the limit: the box's processes (init, its sleep, the shell, python, n children)
        // never exceed it.
        string[] parts = printed.Trim().Split(' ');
        Assert.True(parts.Length == 2, $"the bomb printed '{printed}'");
        Assert.Equal("11", parts[1]);
        int forked = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(forked, Limit / 2, Limit);
        int atLimit = ProcessesIn(group);
        Assert.InRange(atLimit, forked, Limit);

        // While the box is at its limit, the server and another box work normally.
        Assert.Equal("ok\n", (await other.RunAsync("echo ok", new Sandbox.Client.RunOptions { Timeout = TimeSpan.FromMinutes(2) })).Stdout);
        Assert.Equal(Sandbox.Protocol.SandboxStatus.Ready, (await client.GetSandboxAsync(box.Name)).Info.Status);

        // Kill is SIGKILL to every process of the command's group; the box's init then reaps the children. Only the
        // processes of the idle box stay (bounded wait: reaping ~64 zombies is slow only on a very loaded machine).
        await bomb.KillAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        int left;
        while ((left = ProcessesIn(group)) > idle && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
        }

        Assert.True(left <= idle, $"{left} processes left in the box after the kill ({idle} before the bomb)");
        Assert.Equal("alive\n", (await box.RunAsync("echo alive", new Sandbox.Client.RunOptions { Timeout = TimeSpan.FromMinutes(2) })).Stdout);
    }

    /// <summary>Processes (host view) in a cgroup and its sub-groups.</summary>
    private static int ProcessesIn(string group) =>
        Directory.GetFiles(group, "cgroup.procs", SearchOption.AllDirectories).Sum(f =>
        {
            try
            {
                return File.ReadAllLines(f).Length;
            }
            catch (IOException)
            {
                return 0; // a command group removed while counting
            }
        });

    [Fact]
    public async Task EveryProcessOfTheBox_InitAndCommands_RunsInsideTheBoxCgroups()
    {
        bool v2 = File.Exists("/sys/fs/cgroup/cgroup.controllers");
        Assert.True(v2 || Directory.Exists("/sys/fs/cgroup/memory"), "this test needs cgroups (v1 memory hierarchy or v2)");
        var box = await fixture.CreateBoxAsync();
        var result = await fixture.ExecAsync(box.Id!, "for p in /proc/[0-9]*; do cat $p/cgroup 2>/dev/null; echo --; done");
        Assert.Equal(0, result.ExitCode);
        var processes = result.Stdout.Split("--\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.True(processes.Length >= 3, result.Stdout); // the init, its sleep, and this command
        int checkedLines = 0;
        foreach (string line in processes.SelectMany(p => p.Split('\n', StringSplitOptions.RemoveEmptyEntries)))
        {
            string[] parts = line.Split(':', 3);
            string[] controllers = parts[1].Split(',');
            bool managed = v2 ? parts[1].Length == 0 : controllers.Any(c => c is "memory" or "cpu" or "pids");
            if (managed)
            {
                // A cgroup namespace rooted at the box's own group: "/" (or a command's group) and no host path.
                Assert.Matches(v2 ? "^/(\\.\\./)?(init|c[0-9]+-[0-9a-f]{8})?$" : "^/(c[0-9]+-[0-9a-f]{8})?$", parts[2]);
                checkedLines++;
            }
        }

        Assert.True(checkedLines >= processes.Length, result.Stdout);
        string owner = Sandbox.Server.Runtime.CgroupController.OwnerGroup;
        string group = v2 ? $"/sys/fs/cgroup/sandbox-server/{owner}/{box.Id}" : $"/sys/fs/cgroup/pids/sandbox-server/{owner}/{box.Id}";
        int onHost = Directory.GetFiles(group, "cgroup.procs", SearchOption.AllDirectories).Sum(f => File.ReadAllLines(f).Length);
        Assert.True(onHost >= 2, $"the box's processes are in {group} on the host");
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task MemoryBomb_IsOomKilled_AndTheBoxReportsIt()
    {
        var box = await fixture.CreateBoxAsync(new { wait_for_ready = true, mem_bytes = 64L * 1024 * 1024 });
        var result = await fixture.ExecAsync(box.Id!, "python3 -c \"b = bytearray(512*1024*1024); print('allocated')\"");
        Assert.NotEqual(0, result.ExitCode);
        Assert.DoesNotContain("allocated", result.Stdout, StringComparison.Ordinal);
        var info = await fixture.Http.GetFromJsonAsync<SandboxInfo>($"/v2/sandboxes/boxes/{box.Name}", SandboxJson.Options);
        Assert.Contains("memory", info!.StatusMessage, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("still-here\n", (await fixture.ExecAsync(box.Id!, "echo still-here")).Stdout);
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task DiskFill_StopsAtTheCapacity()
    {
        var box = await fixture.CreateBoxAsync(new { wait_for_ready = true, fs_capacity_bytes = 64L * 1024 * 1024 });
        var result = await fixture.ExecAsync(box.Id!, "dd if=/dev/zero of=/home/user/big bs=1M count=200 2>&1 | grep -o 'No space left' | head -1; stat -c %s /home/user/big");
        Assert.Contains("No space left", result.Stdout, StringComparison.Ordinal);
        long size = long.Parse(result.Stdout.Trim().Split('\n')[^1]);
        Assert.True(size < 64L * 1024 * 1024, $"size {size}");
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[1024 * 1024]), "file", "file" } };
        using var upload = await fixture.Http.PostAsync($"/dp/{box.Id}/upload?path=%2Fhome%2Fuser%2Fmore.bin", form);
        Assert.Equal(HttpStatusCode.InsufficientStorage, upload.StatusCode);
        Assert.Contains("WriteError", await upload.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("ok\n", (await fixture.ExecAsync(box.Id!, "rm /home/user/big; echo ok")).Stdout);
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task FileApi_PathTraversalAndSymlinks_StayInsideTheBox()
    {
        var box = await fixture.CreateBoxAsync();
        string hostSecret = Path.Combine(Path.GetTempPath(), "host-secret-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(hostSecret, "host-only");
        string hostTarget = Path.Combine(Path.GetTempPath(), "host-written-" + Guid.NewGuid().ToString("N"));
        try
        {
            await fixture.ExecAsync(box.Id!, $"ln -s {hostSecret} /home/user/to-secret; ln -s / /home/user/root-link; ln -s {hostTarget} /home/user/to-target; ln -s ../../../../../../.. /home/user/up");
            foreach (string path in (string[])[hostSecret, "/home/user/to-secret", "../../../../.." + hostSecret, "/home/user/root-link" + hostSecret, "/home/user/up" + hostSecret])
            {
                using var response = await fixture.Http.GetAsync($"/dp/{box.Id}/download?path={Uri.EscapeDataString(path)}");
                Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            }

            using var form = new MultipartFormDataContent { { new StringContent("pwned"), "file", "file" } };
            using var upload = await fixture.Http.PostAsync($"/dp/{box.Id}/upload?path={Uri.EscapeDataString("/home/user/to-target")}", form);
            Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
            Assert.False(File.Exists(hostTarget));
            Assert.Equal("pwned", (await fixture.ExecAsync(box.Id!, $"cat {hostTarget}")).Stdout);

            using var form2 = new MultipartFormDataContent { { new StringContent("x"), "file", "file" } };
            using var upload2 = await fixture.Http.PostAsync($"/dp/{box.Id}/upload?path={Uri.EscapeDataString("../../../../../tmp/escape-" + Path.GetFileName(hostTarget))}", form2);
            Assert.Equal(HttpStatusCode.OK, upload2.StatusCode);
            Assert.False(File.Exists("/tmp/escape-" + Path.GetFileName(hostTarget)));

            using var glob = await fixture.Http.PostAsJsonAsync($"/dp/{box.Id}/glob", new { pattern = "**/host-secret*", path = "/home/user" });
            var matches = await glob.Content.ReadFromJsonAsync<GlobResponse>(SandboxJson.Options);
            Assert.Empty(matches!.Matches);
        }
        finally
        {
            File.Delete(hostSecret);
            File.Delete(hostTarget);
            await fixture.DeleteBoxAsync(box.Name);
        }
    }
}
