using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Copies a sparse file keeping its holes: only the data extents (<c>SEEK_DATA</c>/<c>SEEK_HOLE</c>) are copied, with
/// <c>copy_file_range</c> (in the kernel, no user-space buffer). A fresh 10 GiB ext4 image holds about 4 MB of data, so
/// a copy costs a few milliseconds where <c>mkfs.ext4</c> costs a process and 60-170 ms on a busy host.
/// </summary>
internal static partial class SparseFileCopy
{
    private const int SEEK_DATA = 3;
    private const int SEEK_HOLE = 4;
    private const int ENXIO = 6;

    /// <summary>Copies <paramref name="source"/> to a new <paramref name="destination"/> (which must not exist).</summary>
    public static void Copy(string source, string destination)
    {
        using var input = File.OpenHandle(source, FileMode.Open, FileAccess.Read);
        using var output = File.OpenHandle(destination, FileMode.CreateNew, FileAccess.Write);
        long length = RandomAccess.GetLength(input);
        RandomAccess.SetLength(output, length);
        long offset = 0;
        while (offset < length)
        {
            long data = Seek(input, offset, SEEK_DATA);
            if (data < 0)
            {
                break; // only a hole is left
            }

            long hole = Math.Min(Seek(input, data, SEEK_HOLE), length);
            long from = data, to = data;
            while (from < hole)
            {
                long copied = CopyFileRange(input, ref from, output, ref to, (nuint)(hole - from), 0);
                if (copied < 0)
                {
                    throw new IOException($"copy_file_range failed (errno {Marshal.GetLastPInvokeError()}) copying {source}");
                }

                if (copied == 0)
                {
                    throw new IOException($"{source} ended early while being copied");
                }
            }

            offset = hole;
        }
    }

    private static long Seek(SafeFileHandle file, long offset, int whence)
    {
        long result = LSeek(file, offset, whence);
        if (result < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == ENXIO ? -1 : throw new IOException($"lseek failed (errno {errno})");
        }

        return result;
    }

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long LSeek(SafeFileHandle fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "copy_file_range", SetLastError = true)]
    private static partial long CopyFileRange(SafeFileHandle fdIn, ref long offIn, SafeFileHandle fdOut, ref long offOut, nuint length, uint flags);
}
