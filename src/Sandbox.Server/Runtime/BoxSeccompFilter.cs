using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Sandbox.Server.Runtime;

/// <summary>
/// The seccomp filter of every box process (a classic BPF program, as bwrap's <c>--seccomp FD</c> and
/// <c>seccomp(SECCOMP_SET_MODE_FILTER)</c> take it), in the spirit of the container runtimes' default profiles.
/// Hand-written: no package available here compiles seccomp rules for .NET, and the program is a flat list of checks.
/// </summary>
/// <remarks>
/// Denied with EPERM: keyrings (<c>keyctl</c>, <c>add_key</c>, <c>request_key</c>); kernel modules and <c>kexec</c>;
/// <c>bpf</c>, <c>perf_event_open</c>, <c>userfaultfd</c>, <c>io_uring</c>; every mount-related call (<c>mount</c>,
/// <c>umount2</c>, <c>pivot_root</c>, the new mount API), so no box can unmask a path, remount <c>/proc</c> or mount a
/// cgroup hierarchy; new namespaces (<c>unshare</c>, <c>setns</c>, <c>clone</c> with namespace flags; <c>clone3</c>
/// answers ENOSYS so the C library falls back to <c>clone</c>); <c>open_by_handle_at</c>/<c>name_to_handle_at</c>;
/// clock, swap, reboot, accounting, <c>syslog</c>, <c>iopl</c>/<c>ioperm</c>, quota, <c>acct</c>, <c>lookup_dcookie</c>,
/// <c>fanotify_init</c>, <c>uselib</c>, <c>personality</c> changes are left to the kernel's own checks. Any other
/// architecture or the x32 ABI is refused. <c>ptrace</c> stays allowed: the box's pid namespace and user namespace
/// already keep it to the box's own processes (debuggers work inside a box).
/// </remarks>
internal static class BoxSeccompFilter
{
    private const uint AuditArchX8664 = 0xC000003E;
    private const uint X32SyscallBit = 0x40000000;
    private const uint RetAllow = 0x7FFF0000;
    private const uint RetErrno = 0x00050000;
    private const uint RetKillProcess = 0x80000000;
    private const ushort LdAbsW = 0x20;   // BPF_LD | BPF_W | BPF_ABS
    private const ushort JeqK = 0x15;     // BPF_JMP | BPF_JEQ | BPF_K
    private const ushort JgeK = 0x35;     // BPF_JMP | BPF_JGE | BPF_K
    private const ushort JsetK = 0x45;    // BPF_JMP | BPF_JSET | BPF_K
    private const ushort RetK = 0x06;     // BPF_RET | BPF_K
    private const int EPERM = 1;
    private const int ENOSYS = 38;
    private const int SysClone = 56;
    private const int SysClone3 = 435;

    // CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
    private const uint NamespaceFlags = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80;

    /// <summary>x86-64 numbers of the denied calls.</summary>
    internal static readonly IReadOnlyDictionary<string, int> Denied = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["keyctl"] = 250, ["add_key"] = 248, ["request_key"] = 249,
        ["init_module"] = 175, ["finit_module"] = 313, ["delete_module"] = 176, ["create_module"] = 174, ["query_module"] = 178, ["get_kernel_syms"] = 177,
        ["kexec_load"] = 246, ["kexec_file_load"] = 320,
        ["bpf"] = 321, ["perf_event_open"] = 298, ["userfaultfd"] = 323,
        ["io_uring_setup"] = 425, ["io_uring_enter"] = 426, ["io_uring_register"] = 427,
        ["mount"] = 165, ["umount2"] = 166, ["pivot_root"] = 155, ["open_tree"] = 428, ["move_mount"] = 429, ["fsopen"] = 430,
        ["fsconfig"] = 431, ["fsmount"] = 432, ["fspick"] = 433, ["mount_setattr"] = 442,
        ["unshare"] = 272, ["setns"] = 308,
        ["open_by_handle_at"] = 304, ["name_to_handle_at"] = 303,
        ["swapon"] = 167, ["swapoff"] = 168, ["reboot"] = 169, ["acct"] = 163, ["syslog"] = 103,
        ["iopl"] = 172, ["ioperm"] = 173, ["quotactl"] = 179, ["quotactl_fd"] = 443, ["lookup_dcookie"] = 212, ["fanotify_init"] = 300,
        ["settimeofday"] = 164, ["clock_settime"] = 227, ["clock_adjtime"] = 305, ["adjtimex"] = 159,
        ["uselib"] = 134, ["_sysctl"] = 156, ["vhangup"] = 153, ["nfsservctl"] = 180,
    };

    /// <summary>True where the filter can be built (x86-64).</summary>
    public static bool Supported => RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>The program as the kernel takes it: an array of 8-byte <c>sock_filter</c> instructions.</summary>
    public static byte[] Build()
    {
        if (!Supported)
        {
            throw new PlatformNotSupportedException("The box seccomp filter is built for x86-64 only");
        }

        var program = new List<(ushort Code, byte Jt, byte Jf, uint K)>
        {
            (LdAbsW, 0, 0, 4),                          // A = arch
            (JeqK, 1, 0, AuditArchX8664),
            (RetK, 0, 0, RetKillProcess),
            (LdAbsW, 0, 0, 0),                          // A = syscall number
            (JgeK, 0, 1, X32SyscallBit),
            (RetK, 0, 0, RetErrno | EPERM),
            (JeqK, 0, 1, SysClone3),
            (RetK, 0, 0, RetErrno | ENOSYS),
        };
        foreach (int nr in Denied.Values.Order())
        {
            program.Add((JeqK, 0, 1, (uint)nr));
            program.Add((RetK, 0, 0, RetErrno | EPERM));
        }

        program.Add((JeqK, 0, 3, SysClone));
        program.Add((LdAbsW, 0, 0, 16));                // A = low 32 bits of clone's flags
        program.Add((JsetK, 0, 1, NamespaceFlags));
        program.Add((RetK, 0, 0, RetErrno | EPERM));
        program.Add((RetK, 0, 0, RetAllow));

        byte[] bytes = new byte[program.Count * 8];
        for (int i = 0; i < program.Count; i++)
        {
            var (code, jt, jf, k) = program[i];
            var slot = bytes.AsSpan(i * 8, 8);
            BinaryPrimitives.WriteUInt16LittleEndian(slot, code);
            slot[2] = jt;
            slot[3] = jf;
            BinaryPrimitives.WriteUInt32LittleEndian(slot[4..], k);
        }

        return bytes;
    }
}
