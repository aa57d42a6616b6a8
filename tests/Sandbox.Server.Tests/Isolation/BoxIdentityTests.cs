using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Isolation;

/// <summary>Box root is an unprivileged host id, and files still belong to box root inside the box.</summary>
public sealed class BoxIdentityTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string HostRoot = "2000000000";

    [Fact]
    public async Task BoxRoot_IsAHostIdThatOwnsNothing_AndCannotChangeHostSysctls()
    {
        var box = await fixture.CreateBoxAsync();
        string burst = (await File.ReadAllTextAsync("/proc/sys/kernel/printk_ratelimit_burst")).Trim();
        string core = (await File.ReadAllTextAsync("/proc/sys/kernel/core_pattern")).Trim();
        var result = await fixture.ExecAsync(box.Id!,
            "cat /proc/self/uid_map /proc/self/gid_map; id -u; "
            + "echo 77 > /proc/sys/kernel/printk_ratelimit_burst 2>/dev/null && echo SYSCTL-WRITTEN; "
            + "exec 3>/proc/sys/kernel/core_pattern 2>/dev/null && echo CORE-PATTERN-OPEN; "
            + "echo '|/tmp/x' > /proc/sys/kernel/core_pattern 2>/dev/null && echo CORE-PATTERN-WRITTEN; echo done");
        string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["0", HostRoot, "65536"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["0", HostRoot, "65536"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("0", lines[2]);
        Assert.DoesNotContain("SYSCTL-WRITTEN", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("CORE-PATTERN", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(burst, (await File.ReadAllTextAsync("/proc/sys/kernel/printk_ratelimit_burst")).Trim());
        Assert.Equal(core, (await File.ReadAllTextAsync("/proc/sys/kernel/core_pattern")).Trim());
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task SnapshotFiles_BoxFiles_AndFilesWrittenByTheServer_BelongToBoxRoot()
    {
        var box = await fixture.CreateBoxAsync();
        using (var upload = new MultipartFormDataContent { { new ByteArrayContent("from the api"u8.ToArray()), "file", "f.txt" } })
        using (var response = await fixture.Http.PostAsync($"/dp/{box.Id}/upload?path=/home/user/api/dir/f.txt", upload))
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        var result = await fixture.ExecAsync(box.Id!,
            "echo mine > /home/user/mine.txt; mkdir -p /home/user/d; chown 1000:1000 /home/user/d; "
            + "stat -c '%u:%g %n' / /usr /usr/bin/env /etc/passwd /home/user /home/user/mine.txt /home/user/api /home/user/api/dir /home/user/api/dir/f.txt /home/user/d /tmp; "
            + "echo x >> /etc/hostname.copy && stat -c '%u:%g %n' /etc/hostname.copy");
        Assert.Equal(0, result.ExitCode);
        foreach (string line in result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.Equal(line.EndsWith("/home/user/d", StringComparison.Ordinal) ? "1000:1000" : "0:0", line.Split(' ')[0]);
        }

        // On the host, the box's writable layer holds the box's ids shifted into the server's range (seen through the
        // launcher's mount namespace, where the box's disk image is mounted).
        var manager = fixture.Server.Services.GetRequiredService<Sandbox.Server.Runtime.BoxManager>();
        var running = manager.Find(box.Id!)!.Running!;
        string upper = Path.Combine(manager.UpperLayersPath(manager.Find(box.Id!)!, running), "root", "home", "user");
        Assert.Equal(HostRoot + ":" + HostRoot, Owner(Path.Combine(upper, "mine.txt")));
        Assert.Equal(HostRoot + ":" + HostRoot, Owner(Path.Combine(upper, "api", "dir", "f.txt")));
        Assert.Equal("2000001000:2000001000", Owner(Path.Combine(upper, "d")));
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task CapturedSnapshot_KeepsBoxOwnership()
    {
        var box = await fixture.CreateBoxAsync();
        await fixture.ExecAsync(box.Id!, "mkdir -p /home/user/cap && echo v > /home/user/cap/f && chown -R 1000:1000 /home/user/cap/f");
        string name = "cap-" + Guid.NewGuid().ToString("N")[..8];
        using (var response = await fixture.Http.PostAsJsonAsync($"/v2/sandboxes/boxes/{box.Name}/snapshot", new { name }))
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        var second = await fixture.CreateBoxAsync(new { wait_for_ready = true, snapshot_name = name });
        var result = await fixture.ExecAsync(second.Id!, "stat -c '%u:%g' /home/user/cap /home/user/cap/f; cat /home/user/cap/f");
        Assert.Equal("0:0\n1000:1000\nv\n", result.Stdout);
        await fixture.DeleteBoxAsync(box.Name);
        await fixture.DeleteBoxAsync(second.Name);
    }

    private static string Owner(string path)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u:%g", path]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }
}
