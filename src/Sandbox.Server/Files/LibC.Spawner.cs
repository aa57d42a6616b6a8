using System.Runtime.InteropServices;

namespace Sandbox.Server.Files;

/// <summary>The calls the box command spawner's channel needs: pipes, descriptors taken from a child, SCM_RIGHTS.</summary>
internal static unsafe partial class LibC
{
    private const long SysPidfdOpen = 434;
    private const long SysPidfdGetfd = 438;
    private const int SOL_SOCKET = 1;
    private const int SCM_RIGHTS = 1;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    private static partial nint SendMsg(SafeHandle socket, MsgHdr* message, int flags);

    /// <summary>A pipe whose both ends are close-on-exec: (read end, write end), or -1s with errno.</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        return Pipe2(fds, O_CLOEXEC) == 0 ? (fds[0], fds[1]) : (-1, -1);
    }

    /// <summary>
    /// A copy of descriptor <paramref name="fd"/> of process <paramref name="pid"/> (a child of the server):
    /// <c>pidfd_open</c> + <c>pidfd_getfd</c>. The copy is close-on-exec. -1 with errno on failure.
    /// </summary>
    public static int TakeDescriptor(int pid, int fd)
    {
        int pidfd = (int)Syscall4(SysPidfdOpen, pid, 0, 0, 0);
        if (pidfd < 0)
        {
            return -1;
        }

        int copy = (int)Syscall4(SysPidfdGetfd, pidfd, fd, 0, 0);
        int errno = Marshal.GetLastPInvokeError();
        Close(pidfd);
        Marshal.SetLastPInvokeError(errno);
        return copy;
    }

    /// <summary>
    /// Sends one message with <paramref name="fds"/> attached (SCM_RIGHTS), without blocking and without SIGPIPE.
    /// Returns the bytes sent, or -1 with errno (EAGAIN when the socket's buffer is full).
    /// </summary>
    public static long SendWithDescriptors(SafeHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        int space = 16 + ((fds.Length * sizeof(int)) + 7 & ~7); // CMSG_SPACE on LP64
        byte* control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        *(nuint*)control = (nuint)(16 + fds.Length * sizeof(int)); // cmsg_len = CMSG_LEN
        *(int*)(control + 8) = SOL_SOCKET;
        *(int*)(control + 12) = SCM_RIGHTS;
        fds.CopyTo(new Span<int>(control + 16, fds.Length));
        fixed (byte* p = data)
        {
            var iov = new IoVec { Base = p, Length = (nuint)data.Length };
            var header = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
            return SendMsg(socket, &header, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
    }
}
