using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Files;

/// <summary>
/// A read-only, seekable stream over a file descriptor inside a box for response bodies: positional reads straight
/// into the caller's buffer, and <see cref="CopyToAsync(Stream, int, CancellationToken)"/> in 1 MiB blocks from the pool.
/// </summary>
/// <remarks>Owns the handle. Not thread-safe (one reader).</remarks>
internal sealed class BoxFileReadStream(SafeFileHandle handle, long length) : Stream
{
    private long _position;

    public override bool CanRead => !handle.IsClosed;

    public override bool CanSeek => !handle.IsClosed;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read = RandomAccess.Read(handle, buffer, _position);
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // A regular file's read does not block on anything but the disk (page cache hits take microseconds): reading
        // in place costs less than a hop to the thread pool.
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        byte[] block = ArrayPool<byte>.Shared.Rent(Math.Max(bufferSize, BoxFileCopy.BlockBytes));
        try
        {
            int read;
            while ((read = Read(block)) > 0)
            {
                await destination.WriteAsync(block.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(block);
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            handle.Dispose();
        }

        base.Dispose(disposing);
    }
}
