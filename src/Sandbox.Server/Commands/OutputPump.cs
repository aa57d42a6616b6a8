namespace Sandbox.Server.Commands;

/// <summary>One output pipe of a command and the buffer it fills.</summary>
internal sealed class OutputPump(Stream stream, OutputBuffer buffer)
{
    private long _total;

    public Stream Stream { get; } = stream;

    public OutputBuffer Buffer { get; } = buffer;

    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>Bytes read from the pipe and appended so far.</summary>
    public long Total => Interlocked.Read(ref _total);

    public void Appended(int count) => Interlocked.Add(ref _total, count);

    /// <summary>The total the pump reaches once it has taken everything that is in the pipe right now.</summary>
    public long Target()
    {
        long total = Total;
        int pending = 0;
        if (Stream is System.IO.Pipes.PipeStream { SafePipeHandle: { IsInvalid: false, IsClosed: false } handle })
        {
            pending = Files.LibC.BytesAvailable(handle);
        }

        return total + Math.Max(0, pending);
    }

    /// <summary>
    /// Copies the pipe into the buffer until its end. Before each append it awaits <paramref name="waitForRoom"/> (an
    /// attached client's back-pressure); after each it calls <paramref name="changed"/>.
    /// </summary>
    public async Task RunAsync(Func<OutputBuffer, int, Task> waitForRoom, Action changed)
    {
        // As much as a default pipe holds per read: a busy command is drained in few wake-ups.
        byte[] chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await Stream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
            {
                await waitForRoom(Buffer, read).ConfigureAwait(false);
                Buffer.Append(chunk.AsSpan(0, read));
                Appended(read);
                changed();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
            Buffer.Complete();
            changed();
        }
    }
}
