using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// A command running in a sandbox, attached over <c>/execute/ws</c>. Output is read once, in order, through
/// <see cref="ReadOutputAsync"/> or collected by <see cref="WaitAsync"/>; a lost connection is re-attached automatically
/// from the last offsets (spec §8.5.11).
/// </summary>
/// <remarks>
/// <para>Re-attach rules: every delivered chunk, and every <c>started</c> acknowledgement naming this command, resets the
/// failure budget; after more than 5 consecutive failures a <see cref="SandboxConnectionException"/> ("giving up") is
/// thrown. Backoff is <c>min(0.5·2^(n−1), 8)</c> s, except after a server reload (close 1001), which re-attaches at once.
/// Operation errors (<c>CommandNotFound</c>, <c>SessionExpired</c>, <c>CommandTimeout</c>) are never retried.</para>
/// <para><see cref="KillAsync"/> sends <c>kill</c> and keeps reading until the <c>exit</c> frame (the JS SDK's behaviour,
/// chosen over Python's close-at-once so the caller gets the exit code); a connection lost after a kill is not re-attached.</para>
/// <para>Thread-safety: one reader at a time; <see cref="SendInputAsync"/>, <see cref="CloseInputAsync"/> and
/// <see cref="KillAsync"/> may be called concurrently with reading. <see cref="DisposeAsync"/> detaches and never kills.</para>
/// </remarks>
public sealed class CommandHandle : IAsyncDisposable
{
    private const int MaxReattachAttempts = 5;

    private readonly SandboxInstance _sandbox;
    private readonly Action<OutputChunk>? _onOutput;
    private readonly IReadOnlyDictionary<string, string>? _headers;
    private readonly TimeSpan? _timeout;
    private readonly bool _collectOutput;
    private readonly Utf8Collector _stdout = new();
    private readonly Utf8Collector _stderr = new();
    private readonly TaskCompletionSource<CommandResult> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private ExecutionStream? _stream;
    private bool _streamIsReattach;
    private int _attempts;
    private int _reading;
    private bool _stdinClosed;
    private bool _closeStdinPending;
    private bool _closeStdinRequested;
    private bool _killed;
    private int _disposed;

    internal CommandHandle(
        SandboxInstance sandbox,
        ExecutionStream stream,
        string commandId,
        int? pid,
        bool isReattach,
        long stdoutOffset,
        long stderrOffset,
        bool pty,
        bool stdinClosed,
        Action<OutputChunk>? onOutput,
        IReadOnlyDictionary<string, string>? headers,
        TimeSpan? timeout,
        bool collectOutput = true)
    {
        _sandbox = sandbox;
        _stream = stream;
        CommandId = commandId;
        Pid = pid;
        _streamIsReattach = isReattach;
        StdoutOffset = stdoutOffset;
        StderrOffset = stderrOffset;
        IsPty = pty;
        _stdinClosed = stdinClosed;
        _onOutput = onOutput;
        _headers = headers;
        _timeout = timeout;
        _collectOutput = collectOutput;
    }

    /// <summary>The command id (idempotency key; use it with <c>SandboxInstance.ReconnectAsync</c>).</summary>
    public string CommandId { get; }

    /// <summary>The process id inside the sandbox, from the <c>started</c> frame (null until known).</summary>
    public int? Pid { get; private set; }

    /// <summary>The stdout byte offset to resume from (offset of the last chunk plus its UTF-8 length).</summary>
    public long StdoutOffset { get; private set; }

    /// <summary>The stderr byte offset to resume from.</summary>
    public long StderrOffset { get; private set; }

    /// <summary>Bytes of stdout skipped so far: the server's offsets jumped past output it no longer retained.</summary>
    public long StdoutSkippedBytes { get; private set; }

    /// <summary>Bytes of stderr skipped so far.</summary>
    public long StderrSkippedBytes { get; private set; }

    /// <summary>True once <see cref="KillAsync"/> was called.</summary>
    public bool IsKilled => Volatile.Read(ref _killed);

    /// <summary>True when the command runs under a pseudo-terminal.</summary>
    public bool IsPty { get; }

    /// <summary>The result once the <c>exit</c> frame arrived; null before.</summary>
    public CommandResult? Result => _completion.Task.IsCompletedSuccessfully ? _completion.Task.Result : null;

    /// <summary>
    /// Streams the output chunks in arrival order until the command exits. Chunks already read are not replayed; breaking
    /// out early leaves the rest for a later call or for <see cref="WaitAsync"/>.
    /// </summary>
    /// <param name="cancellationToken">Stops reading (the command keeps running).</param>
    /// <returns>The chunks.</returns>
    /// <exception cref="InvalidOperationException">Another reader is active.</exception>
    /// <exception cref="CommandTimeoutException">The command exceeded its deadline.</exception>
    /// <exception cref="SandboxOperationException">The server reported an error (e.g. session expired).</exception>
    /// <exception cref="SandboxConnectionException">Re-attaching failed too often.</exception>
    public async IAsyncEnumerable<OutputChunk> ReadOutputAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            throw new InvalidOperationException("The output of this command is already being read.");
        }

        try
        {
            while (true)
            {
                var (more, chunk) = await NextAsync(materialize: true, cancellationToken).ConfigureAwait(false);
                if (!more)
                {
                    yield break;
                }

                yield return chunk!;
            }
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    /// <summary>Waits for the command to exit, reading (and collecting) any output not read yet.</summary>
    /// <param name="cancellationToken">Stops waiting (the command keeps running).</param>
    /// <returns>The collected stdout/stderr and the exit code.</returns>
    public async Task<CommandResult> WaitAsync(CancellationToken cancellationToken = default)
    {
        if (_completion.Task.IsCompleted)
        {
            return await _completion.Task.ConfigureAwait(false);
        }

        if (Interlocked.Exchange(ref _reading, 1) == 1)
        {
            return await _completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            // Nobody reads the chunks: no string is made per chunk unless an OnOutput callback wants one.
            while ((await NextAsync(materialize: _onOutput is not null, cancellationToken).ConfigureAwait(false)).More)
            {
            }
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }

        return await _completion.Task.ConfigureAwait(false);
    }

    /// <summary>Writes text to the command's stdin (<c>{"type":"input"}</c>). Nothing is sent once the stream is closed.</summary>
    /// <param name="data">The text.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the frame is sent.</returns>
    /// <exception cref="SandboxOperationException">stdin is closed (operation <c>sendInput</c>): start the command with
    /// <see cref="RunOptions.CloseStdin"/> = false to stream input.</exception>
    public async Task SendInputAsync(string data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (Volatile.Read(ref _stdinClosed))
        {
            throw new SandboxOperationException(
                "stdin of this command is closed; start it with CloseStdin = false to send input", "sendInput", "StdinClosed");
        }

        if (Volatile.Read(ref _stream) is { } stream)
        {
            await stream.SendAsync(new ExecutionClientFrame { Type = ExecutionFrameTypes.Input, Data = data }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the command's stdin (<c>{"type":"close_stdin"}</c>), at most once; a no-op under a PTY (send
    /// U+0004 instead). If no socket is attached the frame is sent on the next re-attach.</summary>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the frame is sent or queued.</returns>
    public async Task CloseInputAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (IsPty || _stdinClosed)
            {
                return;
            }

            _stdinClosed = true;
            _closeStdinPending = true;
            _closeStdinRequested = true;
        }

        await FlushCloseStdinAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Kills the command's process group (<c>{"type":"kill"}</c>); the command then exits with a non-zero code.</summary>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the frame is sent (nothing is sent when no socket is open).</returns>
    public async Task KillAsync(CancellationToken cancellationToken = default)
    {
        Volatile.Write(ref _killed, true);
        if (Volatile.Read(ref _stream) is { } stream)
        {
            await stream.SendAsync(new ExecutionClientFrame { Type = ExecutionFrameTypes.Kill }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Detaches from the command (closes the socket); the command keeps running unless it was started with
    /// <see cref="RunOptions.KillOnDisconnect"/>.</summary>
    /// <returns>A task that completes when the socket is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _disposed, 1);
        var stream = Interlocked.Exchange(ref _stream, null);
        if (stream is not null)
        {
            await stream.CloseAsync(_completion.Task.IsCompleted ? WebSocketCloseStatus.NormalClosure : WebSocketCloseStatus.InternalServerError).ConfigureAwait(false);
        }

        _completion.TrySetException(new ObjectDisposedException(nameof(CommandHandle)));
        _ = _completion.Task.Exception;
    }

    private async Task FlushCloseStdinAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _stream) is not { IsOpen: true } stream || _completion.Task.IsCompleted)
        {
            return;
        }

        lock (_gate)
        {
            if (!_closeStdinPending)
            {
                return;
            }

            _closeStdinPending = false;
        }

        await stream.SendAsync(new ExecutionClientFrame { Type = ExecutionFrameTypes.CloseStdin }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes the next output frame (More = false after <c>exit</c>); the chunk is made only when
    /// <paramref name="materialize"/> is set. Handles acknowledgements, errors and re-attaching.
    /// </summary>
    private async Task<(bool More, OutputChunk? Chunk)> NextAsync(bool materialize, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_completion.Task.IsCompleted)
            {
                await _completion.Task.ConfigureAwait(false);
                return (false, null);
            }

            var stream = Volatile.Read(ref _stream) ?? throw new ObjectDisposedException(nameof(CommandHandle));
            var item = await stream.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (item.Frame is { } frame)
            {
                switch (frame.Type)
                {
                    case ExecutionFrameTypes.Started:
                        if (frame.CommandId is null || frame.CommandId == CommandId)
                        {
                            _attempts = 0;
                            Pid = frame.Pid ?? Pid;
                        }
                        else
                        {
                            Log.ForeignAck(_sandbox.Client.Runtime.Logger, CommandId, frame.CommandId);
                        }

                        continue;
                    case ExecutionFrameTypes.Stdout:
                    case ExecutionFrameTypes.Stderr:
                        return (true, Deliver(frame, item.Output, materialize));
                    case ExecutionFrameTypes.Exit:
                        _completion.TrySetResult(new CommandResult(_stdout.Build(), _stderr.Build(), frame.ExitCode ?? -1)
                        {
                            StdoutSkippedBytes = StdoutSkippedBytes,
                            StderrSkippedBytes = StderrSkippedBytes,
                        });
                        await stream.CloseAsync(WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
                        return (false, null);
                    case ExecutionFrameTypes.Error:
                        var error = ErrorMapper.ErrorFrame(frame.ErrorType, frame.Error, _streamIsReattach, CommandId, _timeout);
                        await stream.CloseAsync(WebSocketCloseStatus.InternalServerError).ConfigureAwait(false);
                        Fail(error);
                        throw error;
                    default:
                        continue; // unknown frame types are ignored (forward compatibility)
                }
            }

            SandboxConnectionException lost = item.End switch
            {
                StreamEnd.Clean => new SandboxConnectionException("Command stream ended without exit message"),
                StreamEnd.GoingAway => new SandboxServerReloadException("Server is reloading (WebSocket closed with 1001)"),
                _ => item.Error ?? new SandboxConnectionException("Execution stream closed unexpectedly"),
            };
            await stream.CloseAsync(WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
            await ReattachAsync(lost, cancellationToken).ConfigureAwait(false);
        }
    }

    private OutputChunk? Deliver(ExecutionServerFrame frame, OutputBytes output, bool materialize)
    {
        try
        {
            var kind = frame.Type == ExecutionFrameTypes.Stdout ? OutputStreamKind.Stdout : OutputStreamKind.Stderr;
            var bytes = output.Span;
            var expected = kind == OutputStreamKind.Stdout ? StdoutOffset : StderrOffset;
            var offset = frame.Offset ?? expected;
            var next = offset + bytes.Length; // the UTF-8 length of the chunk's text, as sent
            var skipped = offset > expected ? offset - expected : 0;
            if (kind == OutputStreamKind.Stdout)
            {
                StdoutOffset = next;
                StdoutSkippedBytes += skipped;
                if (_collectOutput)
                {
                    _stdout.Append(bytes);
                }
            }
            else
            {
                StderrOffset = next;
                StderrSkippedBytes += skipped;
                if (_collectOutput)
                {
                    _stderr.Append(bytes);
                }
            }

            _attempts = 0;
            if (!materialize && _onOutput is null)
            {
                return null;
            }

            var chunk = new OutputChunk(kind, Encoding.UTF8.GetString(bytes), offset);
            _onOutput?.Invoke(chunk);
            return chunk;
        }
        finally
        {
            output.Return();
        }
    }

    private async Task ReattachAsync(SandboxConnectionException lost, CancellationToken cancellationToken)
    {
        while (true)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
            if (IsKilled)
            {
                Fail(lost);
                throw lost;
            }

            _attempts++;
            if (_attempts > MaxReattachAttempts)
            {
                var giveUp = new SandboxConnectionException(
                    $"Failed to reattach to the command {MaxReattachAttempts} times in succession, giving up", lost);
                Fail(giveUp);
                throw giveUp;
            }

            var delay = lost is SandboxServerReloadException
                ? TimeSpan.Zero
                : TimeSpan.FromSeconds(Math.Min(0.5 * Math.Pow(2, _attempts - 1), 8));
            Log.Reattach(_sandbox.Client.Runtime.Logger, CommandId, _attempts, lost.Message, delay.TotalSeconds);
            await _sandbox.Client.Runtime.DelayAsync(delay, cancellationToken).ConfigureAwait(false);
            try
            {
                var stream = await _sandbox.OpenReconnectStreamAsync(CommandId, StdoutOffset, StderrOffset, _headers, cancellationToken).ConfigureAwait(false);
                if (Volatile.Read(ref _disposed) == 1)
                {
                    await stream.CloseAsync(WebSocketCloseStatus.NormalClosure).ConfigureAwait(false);
                    throw new ObjectDisposedException(nameof(CommandHandle));
                }

                Volatile.Write(ref _stream, stream);
                _streamIsReattach = true;
                lock (_gate)
                {
                    // A close_stdin sent on the lost socket may not have been processed: send it again (it is idempotent).
                    _closeStdinPending |= _closeStdinRequested;
                }

                await FlushCloseStdinAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SandboxConnectionException next)
            {
                lost = next;
            }
        }
    }

    private void Fail(Exception error)
    {
        if (_completion.TrySetException(error))
        {
            _ = _completion.Task.Exception;
        }
    }
}
