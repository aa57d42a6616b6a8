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
    private readonly Process _process;
    private readonly CommandCgroup? _cgroup;
    private readonly Action<CommandCgroup>? _returnCgroup;
    private readonly TimeProvider _time;
    private readonly Action<CommandSession> _onFinished;
    private readonly Action<CommandSession> _onExpired;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
        Pid = pid;
        _cgroup = cgroup;
        _time = time;
        _onFinished = onFinished;
        _onExpired = onExpired;
        Stdout = new OutputBuffer(bufferBytes);
        Stderr = new OutputBuffer(bufferBytes);
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

        var stdout = PumpAsync(_process.StandardOutput.BaseStream, Stdout);
        var stderr = PumpAsync(_process.StandardError.BaseStream, Stderr);
        _completion = CompleteAsync(stdout, stderr);
        lock (_gate)
        {
            if (_attached == 0)
            {
                StartIdleTimerLocked();
            }
        }
    }

    private async Task PumpAsync(Stream stream, OutputBuffer buffer)
    {
        byte[] chunk = new byte[16384];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
            {
                buffer.Append(chunk.AsSpan(0, read));
                Signal();
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        finally
        {
            buffer.Complete();
            Signal();
        }
    }

    private async Task CompleteAsync(Task stdout, Task stderr)
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        // Background children may keep the pipes open; give them a moment, then stop waiting for output.
        var pumps = Task.WhenAll(stdout, stderr);
        if (await Task.WhenAny(pumps, Task.Delay(TimeSpan.FromMilliseconds(250))).ConfigureAwait(false) != pumps)
        {
            _process.StandardOutput.BaseStream.Dispose();
            _process.StandardError.BaseStream.Dispose();
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

    /// <summary>Waits until the command has finished and its output has been collected.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _completion.WaitAsync(cancellationToken);

    /// <summary>Registers an attached client; dispose the result to detach.</summary>
    public IDisposable Attach()
    {
        lock (_gate)
        {
            _attached++;
            _idle?.Dispose();
            _idle = null;
        }

        return new Detacher(this);
    }

    private void Detach()
    {
        bool kill = false;
        lock (_gate)
        {
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

        KillTree();
    }

    private void KillTree()
    {
        if (_cgroup is { CanKillTree: true })
        {
            // Everything but nsenter (the session's own process): it reaps the killed command and exits by itself.
            _cgroup.KillAllExcept(_process.Id);
            return;
        }

        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
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

    private sealed class Detacher(CommandSession session) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                session.Detach();
            }
        }
    }
}
