using Sandbox.Server.Runtime;

namespace Sandbox.Server.Commands;

/// <summary>
/// One running (or finished) command: its process, bounded stdout/stderr buffers addressed by byte offsets, stdin,
/// deadline, idle and TTL timers. Outlives the sockets attached to it; any number of clients may attach at once.
/// </summary>
/// <remarks>Thread-safe.</remarks>
internal sealed partial class CommandSession : IAsyncDisposable
{
    /// <summary>How long a finished command's pipes may stay open before the server stops waiting for their end.</summary>
    private static readonly TimeSpan ExitGrace = TimeSpan.FromMilliseconds(250);

    /// <summary>Upper bound on collecting a finished command's pending output while a client holds back-pressure.</summary>
    private static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(60);

    private readonly ICommandProcess _process;
    private readonly CommandStdin _stdin;
    private readonly CommandCgroup? _cgroup;
    private readonly Action<CommandCgroup>? _returnCgroup;
    private readonly TimeProvider _time;
    private readonly Action<CommandSession> _onFinished;
    private readonly Action<CommandSession> _onExpired;
    private readonly object _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _readersMoved = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<ReaderAttachment> _readers = [];
    private ITimer? _deadline;
    private ITimer? _idle;
    private ITimer? _ttl;
    private int _attached;
    private Task _completion = Task.CompletedTask;

    public CommandSession(CommandSpec spec, ICommandProcess process, int pid, CommandCgroup? cgroup, Action<CommandCgroup>? returnCgroup, int bufferBytes, TimeProvider time,
        Action<CommandSession> onFinished, Action<CommandSession> onExpired)
    {
        _returnCgroup = returnCgroup;
        Spec = spec;
        _process = process;
        _stdin = new CommandStdin(process.StandardInput);
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
            return PtyWindow.TrySetSize(_process.HostPid, cols, rows);
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

        if (Spec.Request.TimeoutSeconds > 0)
        {
            _deadline = _time.CreateTimer(_ => OnDeadline(), null, TimeSpan.FromSeconds(Spec.Request.TimeoutSeconds), Timeout.InfiniteTimeSpan);
        }

        if (Spec.Request.CloseStdin)
        {
            CloseStdin();
        }

        var stdout = new OutputPump(_process.StandardOutput, Stdout);
        var stderr = new OutputPump(_process.StandardError, Stderr);
        stdout.Completion = stdout.RunAsync(WaitForRoomAsync, Signal);
        stderr.Completion = stderr.RunAsync(WaitForRoomAsync, Signal);
        _completion = CompleteAsync(stdout, stderr);
        lock (_gate)
        {
            if (_attached == 0)
            {
                StartIdleTimerLocked();
            }
        }
    }

    private async Task CompleteAsync(OutputPump stdout, OutputPump stderr)
    {
        int code = await _process.WaitForExitAsync().ConfigureAwait(false);
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
            if (Spec.Request.TtlSeconds >= 0)
            {
                _ttl = _time.CreateTimer(_ => _onExpired(this), null, TimeSpan.FromSeconds(Spec.Request.TtlSeconds), Timeout.InfiniteTimeSpan);
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


    private void StartIdleTimerLocked()
    {
        if (Spec.Request.IdleTimeoutSeconds > 0 && !IsFinished)
        {
            _idle?.Dispose();
            _idle = _time.CreateTimer(_ => Kill(), null, TimeSpan.FromSeconds(Spec.Request.IdleTimeoutSeconds), Timeout.InfiniteTimeSpan);
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
            ErrorMessage = $"Command timed out after {Spec.Request.TimeoutSeconds}s";
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

    private void KillTree() => _process.KillTree(_cgroup);

    /// <summary>Writes to the command's stdin; false when it is closed or the command has finished.</summary>
    public Task<bool> SendInputAsync(string data, CancellationToken cancellationToken) =>
        IsFinished ? Task.FromResult(false) : _stdin.WriteAsync(data, cancellationToken);

    public void CloseStdin() => _stdin.Close();

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
        _stdin.Dispose();
    }

}
