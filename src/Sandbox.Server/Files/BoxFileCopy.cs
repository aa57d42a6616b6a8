using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Files;

/// <summary>
/// Moves file content between a request or response stream and a descriptor of a file inside a box: one pooled 1 MiB
/// buffer, positional reads and writes on the descriptor (no stream buffering on top, no second copy).
/// </summary>
internal static class BoxFileCopy
{
    /// <summary>Size of one transfer block: large enough that per-call costs vanish against the copy itself.</summary>
    public const int BlockBytes = 1024 * 1024;

    /// <summary>
    /// Copies <paramref name="content"/> into <paramref name="target"/> from offset 0 and returns the byte count. Throws
    /// <paramref name="tooLarge"/>'s exception as soon as more than <paramref name="maxBytes"/> arrived.
    /// </summary>
    public static async Task<long> WriteAsync(Stream content, SafeFileHandle target, long maxBytes, Func<Exception> tooLarge, CancellationToken cancellationToken)
    {
        byte[] block = ArrayPool<byte>.Shared.Rent(BlockBytes);
        long total = 0;
        try
        {
            while (true)
            {
                // Fill the block (a request body arrives in pieces of a few KiB) before one write to the file.
                int filled = 0;
                int read;
                while (filled < BlockBytes && (read = await content.ReadAsync(block.AsMemory(filled, BlockBytes - filled), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    filled += read;
                }

                if (filled == 0)
                {
                    return total;
                }

                if (total + filled > maxBytes)
                {
                    throw tooLarge();
                }

                RandomAccess.Write(target, block.AsSpan(0, filled), total);
                total += filled;
                if (filled < BlockBytes)
                {
                    return total;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }
}
