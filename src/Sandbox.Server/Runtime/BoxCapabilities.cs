namespace Sandbox.Server.Runtime;

/// <summary>
/// The capabilities box processes keep (in the box's own user namespace; they never mean anything on the host): what
/// root needs to manage files and users inside the box and to use its loopback network. Everything else is dropped
/// from the effective, permitted, inheritable and bounding sets: no <c>CAP_SYS_ADMIN</c> (mounts, namespaces),
/// <c>CAP_NET_ADMIN</c>, <c>CAP_SYS_PTRACE</c>, <c>CAP_SYS_MODULE</c>, <c>CAP_MKNOD</c>, <c>CAP_SYS_RESOURCE</c>,
/// <c>CAP_SYS_TIME</c>, <c>CAP_DAC_READ_SEARCH</c>, <c>CAP_SYS_RAWIO</c>, <c>CAP_BPF</c>, ...
/// </summary>
internal static class BoxCapabilities
{
    /// <summary>Kept capabilities by name (bwrap's <c>--cap-add</c>) and number.</summary>
    public static readonly IReadOnlyList<(string Name, int Number)> Kept =
    [
        ("CAP_CHOWN", 0), ("CAP_DAC_OVERRIDE", 1), ("CAP_FOWNER", 3), ("CAP_FSETID", 4), ("CAP_KILL", 5),
        ("CAP_SETGID", 6), ("CAP_SETUID", 7), ("CAP_SETPCAP", 8), ("CAP_NET_BIND_SERVICE", 10), ("CAP_NET_RAW", 13),
        ("CAP_SYS_CHROOT", 18), ("CAP_AUDIT_WRITE", 29), ("CAP_SETFCAP", 31),
    ];

    /// <summary>The kept set as a mask (as <c>/proc/PID/status</c> shows it: <c>00000000a00425fb</c>).</summary>
    public static ulong Mask => Kept.Aggregate(0UL, (mask, cap) => mask | (1UL << cap.Number));
}
