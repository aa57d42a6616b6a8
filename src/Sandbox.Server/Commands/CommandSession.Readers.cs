namespace Sandbox.Server.Commands;

/// <summary>The clients attached to a command and the back-pressure they put on its output pumps.</summary>
internal sealed partial class CommandSession
{
    /// <summary>
    /// Registers an attached client reading from the given offsets; dispose the result to detach. While a client is
    /// attached, output it has not been sent yet is never overwritten: the pump waits (and the command blocks on its
    /// full pipe) until the client catches up, detaches, or the command is killed.
    /// </summary>
    public ReaderAttachment Attach(long stdoutOffset = 0, long stderrOffset = 0)
    {
        var reader = new ReaderAttachment(this, stdoutOffset, stderrOffset);
        lock (_gate)
        {
            _attached++;
            _readers.Add(reader);
            _idle?.Dispose();
            _idle = null;
        }

        return reader;
    }

    /// <summary>Waits until appending <paramref name="incoming"/> bytes would not overwrite bytes an attached client still needs.</summary>
    private async Task WaitForRoomAsync(OutputBuffer buffer, int incoming)
    {
        while (true)
        {
            Task moved;
            lock (_gate)
            {
                if (WasKilled || ErrorType is not null || !HasLaggingReaderLocked(buffer, incoming))
                {
                    return;
                }

                moved = _readersMoved.Task;
            }

            await moved.ConfigureAwait(false);
        }
    }

    private bool HasLaggingReaderLocked(OutputBuffer buffer, int incoming)
    {
        long end = buffer.End;
        foreach (var reader in _readers)
        {
            long position = ReferenceEquals(buffer, Stdout) ? reader.StdoutPosition : reader.StderrPosition;
            if (position < end && end + incoming - position > buffer.Capacity)
            {
                return true;
            }
        }

        return false;
    }

    private void SignalReadersMoved()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _readersMoved;
            _readersMoved = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }

    private void Detach(ReaderAttachment reader)
    {
        bool kill = false;
        lock (_gate)
        {
            _readers.Remove(reader);
            _attached--;
            if (_attached == 0 && !IsFinished)
            {
                if (Spec.Request.KillOnDisconnect)
                {
                    kill = true;
                }
                else
                {
                    StartIdleTimerLocked();
                }
            }
        }

        SignalReadersMoved();
        if (kill)
        {
            Kill();
        }
    }

    /// <summary>An attached client and how far it has been sent each stream; dispose to detach.</summary>
    internal sealed class ReaderAttachment(CommandSession session, long stdoutOffset, long stderrOffset) : IDisposable
    {
        private int _done;

        public long StdoutPosition { get; private set; } = stdoutOffset;

        public long StderrPosition { get; private set; } = stderrOffset;

        /// <summary>Records that the client has been sent everything before these offsets.</summary>
        public void Advance(long stdoutOffset, long stderrOffset)
        {
            lock (session._gate)
            {
                if (stdoutOffset == StdoutPosition && stderrOffset == StderrPosition)
                {
                    return;
                }

                StdoutPosition = stdoutOffset;
                StderrPosition = stderrOffset;
            }

            session.SignalReadersMoved();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                session.Detach(this);
            }
        }
    }
}
