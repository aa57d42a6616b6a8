using System.Runtime.InteropServices;

namespace Sandbox.Server.Networking;

/// <summary>libc entry points for entering a network namespace.</summary>
internal static partial class NetworkNamespaceInterop
{
    /// <summary><c>CLONE_NEWNET</c>: the namespace type argument of <c>setns</c>.</summary>
    public const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nsType);

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    public static partial int Unshare(int flags);
}
