using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Sandbox.Server.Tests.Isolation;

/// <summary>
/// Attacks from inside a box, the way a hostile program would make them, each checked on the host afterwards:
/// capabilities, seccomp, no_new_privs, masks, keyrings, cgroups and host paths.
/// </summary>
public sealed partial class BoxHardeningTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string KeptCapabilities = "00000000a00425fb";

    // python3 one-liner: the return value and errno of a raw system call (args are integers).
    private static string Syscall(int nr, params long[] args) =>
        $"python3 -c 'import ctypes; l=ctypes.CDLL(None, use_errno=True); l.syscall.restype=ctypes.c_long; r=l.syscall({nr}{string.Concat(args.Select(a => ", ctypes.c_long(" + a.ToString(CultureInfo.InvariantCulture) + ")"))}); print({nr}, r, ctypes.get_errno())'";

    [Fact]
    public async Task Commands_RunWithTheBoxCapabilities_Seccomp_AndNoNewPrivs()
    {
        var box = await fixture.CreateBoxAsync();
        var result = await fixture.ExecAsync(box.Id!, "grep -E '^(Uid|CapEff|CapBnd|CapPrm|CapAmb|Seccomp|NoNewPrivs):' /proc/self/status; cat /proc/self/uid_map; echo ---; grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/1/status");
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join(' ', l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Contains("Uid: 0 0 0 0", lines);
        Assert.Contains($"CapEff: {KeptCapabilities}", lines);
        Assert.Contains($"CapPrm: {KeptCapabilities}", lines);
        Assert.Contains($"CapBnd: {KeptCapabilities}", lines);
        Assert.Contains("CapAmb: 0000000000000000", lines);
        Assert.Contains("Seccomp: 2", lines);
        Assert.Contains("NoNewPrivs: 1", lines);
        Assert.Contains("0 2000000000 65536", lines);
        // pid 1 (bwrap's reaper in the box) is at least as restricted.
        var init = lines.SkipWhile(l => l != "---").Skip(1).ToList();
        Assert.Contains("Seccomp: 2", init);
        Assert.Contains("NoNewPrivs: 1", init);
        Assert.DoesNotContain(init, l => l.StartsWith("CapBnd: ", StringComparison.Ordinal) && l != $"CapBnd: {KeptCapabilities}");
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task DangerousSystemCalls_AreRefused_WithEperm()
    {
        var box = await fixture.CreateBoxAsync();
        // keyctl(GET_KEYRING_ID, user keyring), add_key, request_key, init_module, finit_module, delete_module,
        // kexec_load, bpf, perf_event_open, userfaultfd, open_by_handle_at, unshare(NEWUSER), setns, mount, umount2,
        // pivot_root, fsopen, open_tree, io_uring_setup.
        int[] calls = [250, 248, 249, 175, 313, 176, 246, 321, 298, 323, 304, 272, 308, 165, 166, 155, 430, 428, 425];
        string script = string.Join("; ", calls.Select(nr => nr == 272 ? Syscall(nr, 0x10000000) : Syscall(nr)));
        var result = await fixture.ExecAsync(box.Id!, script);
        var seen = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => int.Parse(l.Split(' ')[0], CultureInfo.InvariantCulture), l => l);
        foreach (int nr in calls)
        {
            Assert.True(seen.TryGetValue(nr, out string? line), $"syscall {nr}: {result.Stdout} {result.Stderr}");
            Assert.Equal($"{nr} -1 1", line); // -1 with EPERM: refused by the filter, never reaching the kernel's own checks
        }

        Assert.Contains("Operation not permitted", (await fixture.ExecAsync(box.Id!, "unshare -U true 2>&1; unshare -m true 2>&1")).Stdout, StringComparison.Ordinal);
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task AHostKeyringKey_CannotBeReadFromABox()
    {
        // The test process (host root) puts a key in its session keyring, which the server's processes share.
        byte[] payload = Encoding.ASCII.GetBytes("host-keyring-secret");
        long serial = AddKey("user", "sandbox-test-" + Guid.NewGuid().ToString("N")[..8], payload, -3 /* KEY_SPEC_SESSION_KEYRING */);
        Assert.True(serial > 0, "add_key failed on the host");
        var box = await fixture.CreateBoxAsync();
        var result = await fixture.ExecAsync(box.Id!,
            $"{Syscall(250, 11, serial, 0, 0)}; {Syscall(250, 0, -3)}; {Syscall(250, 0, -4)}; cat /proc/keys 2>&1 | grep -c sandbox-test");
        Assert.Contains("250 -1 1", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("host-keyring-secret", result.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("0\n", result.Stdout, StringComparison.Ordinal);
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task Masks_CannotBeUnmounted_AndProcSysIsReadOnly()
    {
        var box = await fixture.CreateBoxAsync();
        string burst = (await File.ReadAllTextAsync("/proc/sys/kernel/printk_ratelimit_burst")).Trim();
        var result = await fixture.ExecAsync(box.Id!,
            "umount /etc/shadow 2>/dev/null && echo UNMOUNTED; umount -l /etc/shadow 2>/dev/null && echo UNMOUNTED; "
            + "umount /proc/sys 2>/dev/null && echo UNMOUNTED; umount -l /proc/sys 2>/dev/null && echo UNMOUNTED; "
            + "mount -t proc proc /tmp 2>/dev/null && echo MOUNTED; mount -o remount,rw /proc/sys 2>/dev/null && echo MOUNTED; "
            + "sha256sum /etc/shadow 2>/dev/null; echo 77 > /proc/sys/kernel/printk_ratelimit_burst 2>/dev/null && echo WRITTEN; "
            + "cat /proc/kcore 2>/dev/null | head -c 1 | wc -c; echo end");
        Assert.DoesNotContain("UNMOUNTED", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("MOUNTED", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("WRITTEN", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\n1\n", "\n" + result.Stdout, StringComparison.Ordinal); // no kcore byte
        string hostShadow = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync("/etc/shadow")));
        Assert.DoesNotContain(hostShadow, result.Stdout, StringComparison.Ordinal); // the box's /etc/shadow (if any) is never the host's
        Assert.Equal(burst, (await File.ReadAllTextAsync("/proc/sys/kernel/printk_ratelimit_burst")).Trim());
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task ABoxCannotRaiseItsOwnLimits_ThroughACgroupMount()
    {
        const long Mem = 256L * 1024 * 1024;
        var box = await fixture.CreateBoxAsync(new { wait_for_ready = true, mem_bytes = Mem, vcpus = 1 });
        var result = await fixture.ExecAsync(box.Id!,
            "mkdir -p /tmp/cg; unshare -C mount -t cgroup -o memory none /tmp/cg 2>/dev/null && echo MOUNTED; "
            + "mount -t cgroup -o memory none /tmp/cg 2>/dev/null && echo MOUNTED; mount -t cgroup2 none /tmp/cg 2>/dev/null && echo MOUNTED; "
            + "for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /tmp/cg/memory.limit_in_bytes; do [ -e $f ] && echo 4294967296 > $f 2>/dev/null && echo RAISED; done; "
            + "python3 -c 'b=bytearray(768*1024*1024); print(\"ALLOCATED\")'; echo exit=$?");
        Assert.DoesNotContain("MOUNTED", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("RAISED", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("ALLOCATED", result.Stdout, StringComparison.Ordinal);
        string owner = Sandbox.Server.Runtime.CgroupController.OwnerGroup;
        string limit = $"/sys/fs/cgroup/memory/sandbox-server/{owner}/{box.Id}/memory.limit_in_bytes";
        if (File.Exists(limit))
        {
            Assert.Equal(Mem.ToString(CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(limit)).Trim());
            Assert.Equal("100000", (await File.ReadAllTextAsync($"/sys/fs/cgroup/cpu/sandbox-server/{owner}/{box.Id}/cpu.cfs_quota_us")).Trim());
        }

        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task NoHostPath_IsVisibleInsideABox()
    {
        var box = await fixture.CreateBoxAsync();
        var result = await fixture.ExecAsync(box.Id!, "cat /proc/self/mountinfo; tr '\\0' ' ' < /proc/1/cmdline; echo; cat /proc/self/cgroup");
        string data = fixture.Server.DataDirectory;
        Assert.DoesNotContain(data, result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("sandbox-server", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/') + "/", result.Stdout, StringComparison.Ordinal);
        await fixture.DeleteBoxAsync(box.Name);
    }

    private static long AddKey(string type, string description, byte[] payload, int keyring)
    {
        unsafe
        {
            fixed (byte* t = Encoding.ASCII.GetBytes(type + "\0"))
            fixed (byte* d = Encoding.ASCII.GetBytes(description + "\0"))
            fixed (byte* p = payload)
            {
                return SyscallNative(248, (long)t, (long)d, (long)p, payload.Length, keyring);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallNative(long number, long a1, long a2, long a3, long a4, long a5);
}
