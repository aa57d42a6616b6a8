using System.Diagnostics;
using System.Text;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Commands;

/// <summary>
/// One running (or finished) command: its process, bounded stdout/stderr buffers addressed by byte offsets, stdin,
/// deadline, idle and TTL timers. Outlives the sockets attached to it; any number of clients may attach at once.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed class CommandSession : IAsyncDisposable
{
    /// <summary>How long a finished command's pipes may stay open before the server stops waiting for their end.</summary>
    private static readonly TimeSpan ExitGrace = TimeSpan.FromMilliseconds(250);

    /// <summary>Upper bound on collecting a finished command's pending output while a client holds back-pressure.</summary>
    private static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly int _hostPid;
    private readonly CommandCgroup? _cgroup;
    private readonly Action<CommandCgroup>? _returnCgroup;
    private readonly TimeProvider _time;
    private readonly Action<CommandSession> _onFinished;
    private readonly Action<CommandSession> _onExpired;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _readersMoved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<ReaderAttachment> _readers = [];
    private ITimer? _deadline;
    private ITimer? _idle;
    private ITimer? _ttl;
    private int _attached;
    private bool _stdinClosed;
    private Task _completion = Task.CompletedTask;

    public CommandSession(CommandSpec spec, Process process, int pid, CommandCgroup? cgroup, Action<CommandCgroup>? returnCgroup, int bufferBytes, TimeProvider time,
        Action<CommandSession> onFinished, Action<CommandSession> onExpired)
    {
        _returnCgroup = returnCgroup;
        Spec = spec;
        _process = process;
        _hostPid = process.Id;
        Pid = pid;
        _cgroup = cgroup;
        _time = time;
        _onFinished = onFinished;
        _onExpired = onExpired;
        Stdout = new OutputBuffer(bufferBytes);
        Stderr = new OutputBuffer(bufferBytes);
        StartedAt = time.GetUtcNow();
    }

    /// <summary>When the command was started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>Sets the terminal size of a PTY command (local-server extension); false when it is not a running PTY command.</summary>
    public bool TryResize(int cols, int rows)
    {
        if (!Spec.Pty || IsFinished)
        {
            return false;
        }

        try
        {
            return PtyWindow.TrySetSize(_process.Id, cols, rows);
        }
        catch (InvalidOperationException)
        {
            return false; // the command ended and its process handle was released meanwhile
        }
    }

    public CommandSpec Spec { get; }

    public string CommandId => Spec.CommandId;

    /// <summary>The command's pid inside the box's pid namespace.</summary>
    public int Pid { get; }

    public OutputBuffer Stdout { get; }

    public OutputBuffer Stderr { get; }

    public bool IsFinished { get; private set; }

    public int? ExitCode { get; private set; }

    /// <summary>Set when the command ended abnormally in a way the protocol reports as an error frame (CommandTimeout).</summary>
    public string? ErrorType { get; private set; }

    public string? ErrorMessage { get; private set; }

    public bool WasKilled { get; private set; }

    /// <summary>A task that completes at the next state or output change.</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>Starts the output pumps and the deadline. <paramref name="initialStdout"/> are bytes read past the pid header.</summary>
    public void Start(ReadOnlyMemory<byte> initialStdout)
    {
        if (!initialStdout.IsEmpty)
        {
            Stdout.Append(initialStdout.Span);
        }

        if (Spec.TimeoutSeconds > 0)
        {
            _deadline = _time.CreateTimer(_ => OnDeadline(), null, TimeSpan.FromSeconds(Spec.TimeoutSeconds), Timeout.InfiniteTimeSpan);
        }

        if (Spec.CloseStdin)
        {
            CloseStdin();
        }

        var stdout = new OutputPump(_process.StandardOutput.BaseStream, Stdout);
        var stderr = new OutputPump(_process.StandardError.BaseStream, Stderr);
        stdout.Completion = PumpAsync(stdout);
        stderr.Completion = PumpAsync(stderr);
        _completion = CompleteAsync(stdout, stderr);
        lock (_gate)
        {
            if (_attached == 0)
            {
                StartIdleTimerLocked();
            }
        }
    }

    private async Task PumpAsync(OutputPump pump)
    {
        // As much as a default pipe holds per read: a busy command is drained in few wake-ups.
        byte[] chunk = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await pump.Stream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
            {
                await WaitForRoomAsync(pump.Buffer, read).ConfigureAwait(false);
                pump.Buffer.Append(chunk.AsSpan(0, read));
                pump.Appended(read);
                Signal();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
            pump.Buffer.Complete();
            Signal();
        }
    }

    private async Task CompleteAsync(OutputPump stdout, OutputPump stderr)
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        var pumps = Task.WhenAll(stdout.Completion, stderr.Completion);
        if (await Task.WhenAny(pumps, Task.Delay(ExitGrace)).ConfigureAwait(false) != pumps)
        {
            // The pipes are still open: either a background child of the command holds them, or the pumps are merely
            // behind (a busy server). Everything the command wrote before it exited is in the pipes now; collect
            // exactly that (however long it takes to be scheduled), then stop listening to later background output.
            await DrainAsync(stdout, stderr, pumps).ConfigureAwait(false);
            stdout.Stream.Dispose();
            stderr.Stream.Dispose();
            await pumps.ConfigureAwait(false);
        }

        int code;
        try
        {
            code = _process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            code = -1;
        }

        // Release the pipes and the process handle now rather than at a garbage collection: a finished session may be
        // kept for its TTL, and the server must not hold descriptors per finished command.
        stdout.Stream.Dispose();
        stderr.Stream.Dispose();
        CloseStdin();
        _process.Dispose();

        lock (_gate)
        {
            ExitCode = code;
            IsFinished = true;
            _deadline?.Dispose();
            _idle?.Dispose();
            if (Spec.TtlSeconds >= 0)
            {
                _ttl = _time.CreateTimer(_ => _onExpired(this), null, TimeSpan.FromSeconds(Spec.TtlSeconds), Timeout.InfiniteTimeSpan);
            }
        }

        if (_cgroup is not null)
        {
            _returnCgroup?.Invoke(_cgroup);
        }

        _onFinished(this);
        Signal();
    }

    /// <summary>Waits until each pump has appended the bytes that were waiting in its pipe when this was called.</summary>
    private async Task DrainAsync(OutputPump stdout, OutputPump stderr, Task pumps)
    {
        long stdoutTarget = stdout.Target();
        long stderrTarget = stderr.Target();
        var deadline = _time.GetTimestamp() + (long)(MaxDrain.TotalSeconds * _time.TimestampFrequency);
        while (!pumps.IsCompleted && (stdout.Total < stdoutTarget || stderr.Total < stderrTarget))
        {
            var changed = Changed;
            if (stdout.Total >= stdoutTarget && stderr.Total >= stderrTarget)
            {
                return;
            }

            if (_time.GetTimestamp() > deadline || WasKilled)
            {
                return;
            }

            await Task.WhenAny(changed, pumps, Task.Delay(TimeSpan.FromMilliseconds(100), _time)).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until the command has finished and its output has been collected.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _completion.WaitAsync(cancellationToken);

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
                if (Spec.KillOnDisconnect)
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

    private void StartIdleTimerLocked()
    {
        if (Spec.IdleTimeoutSeconds > 0 && !IsFinished)
        {
            _idle?.Dispose();
            _idle = _time.CreateTimer(_ => Kill(), null, TimeSpan.FromSeconds(Spec.IdleTimeoutSeconds), Timeout.InfiniteTimeSpan);
        }
    }

    private void OnDeadline()
    {
        lock (_gate)
        {
            if (IsFinished)
            {
                return;
            }

            ErrorType = "CommandTimeout";
            ErrorMessage = $"Command timed out after {Spec.TimeoutSeconds}s";
        }

        SignalReadersMoved();

        KillTree();
    }

    /// <summary>SIGKILLs the command's whole process tree. The session then ends with a non-zero exit code.</summary>
    public void Kill()
    {
        lock (_gate)
        {
            if (IsFinished)
            {
                return;
            }

            WasKilled = true;
        }

        SignalReadersMoved();
        KillTree();
    }

    private void KillTree()
    {
        if (_cgroup is { CanKillTree: true })
        {
            // Everything but nsenter (the session's own process): it reaps the killed command and exits by itself.
            _cgroup.KillAllExcept(_hostPid);
            return;
        }

        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException or ObjectDisposedException)
        {
        }
    }

    public async Task<bool> SendInputAsync(string data, CancellationToken cancellationToken)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(data);
        await _stdinLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stdinClosed || IsFinished)
            {
                return false;
            }

            var stdin = _process.StandardInput.BaseStream;
            await stdin.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
            await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
        finally
        {
            _stdinLock.Release();
        }
    }

    public void CloseStdin()
    {
        _stdinLock.Wait();
        try
        {
            if (_stdinClosed)
            {
                return;
            }

            _stdinClosed = true;
            _process.StandardInput.Close();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            _stdinLock.Release();
        }
    }

    private void Signal()
    {
        TaskCompletionSource previous;
        lock (_gate)
        {
            previous = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        previous.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            await _completion.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        lock (_gate)
        {
            _deadline?.Dispose();
            _idle?.Dispose();
            _ttl?.Dispose();
        }

        _process.Dispose();
        _stdinLock.Dispose();
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

    /// <summary>One output pipe of the command and the buffer it fills.</summary>
    private sealed class OutputPump(Stream stream, OutputBuffer buffer)
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
    }
}
