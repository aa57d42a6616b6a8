using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Sandbox.Protocol;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Commands;

/// <summary>
/// Serves one <c>/execute/ws</c> connection: the setup frame (execute or reconnect), <c>started</c>, then output from the
/// session's buffers by byte offset until <c>exit</c>/<c>error</c>. One receive loop handles input, kill and
/// close_stdin; all sends happen on one loop. Closing the socket only detaches; a received kill is always honoured.
/// </summary>
internal sealed class ExecutionSocket
{
    // Larger frames cost more per byte, not less: at 512 KiB a frame no longer stays in the caches between reading the
    // ring, escaping and sending it (measured: server CPU per MB ×4, client ×2 against 64 KiB).
    private const int MaxChunkBytes = 64 * 1024;
    private const int MaxClientMessageBytes = 4 * 1024 * 1024;
    private static readonly byte[] StdoutType = System.Text.Encoding.UTF8.GetBytes(ExecutionFrameTypes.Stdout);
    private static readonly byte[] StderrType = System.Text.Encoding.UTF8.GetBytes(ExecutionFrameTypes.Stderr);
    private readonly WebSocket _socket;
    private readonly Box _box;
    private readonly BoxManager _boxes;
    private readonly ILogger _logger;

    public ExecutionSocket(WebSocket socket, Box box, BoxManager boxes, ILogger logger)
    {
        _socket = socket;
        _box = box;
        _boxes = boxes;
        _logger = logger;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RunCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            Log.SocketEnded(_logger, _box.Id, e.Message);
        }

        // The client started the closing handshake (it detached): answer it so its close completes cleanly.
        if (_socket.State == WebSocketState.CloseReceived)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "detached", timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
            {
                Log.SocketEnded(_logger, _box.Id, e.Message);
            }
        }
    }

    private async Task RunCoreAsync(CancellationToken cancellationToken)
    {
        using var setupTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        setupTimeout.CancelAfter(TimeSpan.FromSeconds(60));
        var first = await ReceiveFrameAsync(setupTimeout.Token).ConfigureAwait(false);
        if (first is null)
        {
            return;
        }

        CommandSession session;
        long stdoutOffset = 0, stderrOffset = 0;
        if (first.Type == ExecutionFrameTypes.Reconnect)
        {
            string id = first.CommandId ?? "";
            var running = _box.Running;
            if (running is null || !running.Commands.TryGet(id, out session))
            {
                bool expired = running?.Commands.IsExpired(id) ?? false;
                await SendAsync(new ExecutionServerFrame
                {
                    Type = ExecutionFrameTypes.Error,
                    ErrorType = expired ? "SessionExpired" : "CommandNotFound",
                    Error = expired ? $"Session expired: {id}" : $"Command not found: {id}",
                }, cancellationToken).ConfigureAwait(false);
                await CloseAsync(cancellationToken).ConfigureAwait(false);
                await DrainUntilClosedAsync().ConfigureAwait(false);
                return;
            }

            stdoutOffset = Math.Max(0, first.StdoutOffset ?? 0);
            stderrOffset = Math.Max(0, first.StderrOffset ?? 0);
        }
        else if (first.Type == ExecutionFrameTypes.Execute)
        {
            if (string.IsNullOrEmpty(first.Command))
            {
                await SendErrorAndCloseAsync("CommandError", "The execute frame needs a non-empty 'command'", cancellationToken).ConfigureAwait(false);
                return;
            }

            try
            {
                var running = await _boxes.EnsureRunningAsync(_box, cancellationToken).ConfigureAwait(false);
                string id = string.IsNullOrEmpty(first.CommandId) ? Guid.CreateVersion7().ToString("N") : first.CommandId;
                var spec = CommandSpecBuilder.Build(_box, running, _boxes, new CommandStartRequest
                {
                    CommandId = id,
                    Command = first.Command,
                    Shell = first.Shell,
                    Env = first.Env,
                    Cwd = first.Cwd,
                    RunConfig = first.RunConfig,
                    Pty = first.Pty ?? false,
                    CloseStdin = first.CloseStdin ?? false,
                    TimeoutSeconds = first.TimeoutSeconds ?? 60,
                    IdleTimeoutSeconds = first.IdleTimeoutSeconds ?? 300,
                    KillOnDisconnect = first.KillOnDisconnect ?? false,
                    TtlSeconds = first.TtlSeconds ?? 600,
                });
                (session, _) = await _boxes.StartCommandAsync(_box, running, spec, cancellationToken).ConfigureAwait(false);
            }
            catch (DomainException e)
            {
                await SendErrorAndCloseAsync("CommandError", e.Message, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (CommandStartException e)
            {
                await SendErrorAndCloseAsync("CommandError", e.Message, cancellationToken).ConfigureAwait(false);
                return;
            }
        }
        else
        {
            await SendErrorAndCloseAsync("CommandError", $"Expected an 'execute' or 'reconnect' frame first, got '{first.Type}'", cancellationToken).ConfigureAwait(false);
            return;
        }

        await SendAsync(new ExecutionServerFrame { Type = ExecutionFrameTypes.Started, CommandId = session.CommandId, Pid = session.Pid }, cancellationToken).ConfigureAwait(false);
        using var attachment = session.Attach(stdoutOffset, stderrOffset);
        using var clientGone = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var receive = ReceiveLoopAsync(session, clientGone);
        try
        {
            await StreamAsync(session, attachment, stdoutOffset, stderrOffset, clientGone.Token).ConfigureAwait(false);
            // We sent our close frame: let the client answer it (cancelling a receive aborts the socket with a RST,
            // which can discard the frames the client has not read yet).
            await Task.WhenAny(receive, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)).ConfigureAwait(false);
        }
        finally
        {
            await clientGone.CancelAsync().ConfigureAwait(false);
            await receive.ConfigureAwait(false);
        }
    }

    private async Task StreamAsync(CommandSession session, CommandSession.ReaderAttachment attachment, long stdoutOffset, long stderrOffset, CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxChunkBytes);
        using var frames = new OutputFrameWriter();
        try
        {
            while (true)
            {
                var changed = session.Changed;
                bool finished = session.IsFinished;
                bool progress;
                do
                {
                    progress = false;
                    (stdoutOffset, bool outSent) = await SendChunkAsync(session.Stdout, StdoutType, stdoutOffset, buffer, frames, cancellationToken).ConfigureAwait(false);
                    (stderrOffset, bool errSent) = await SendChunkAsync(session.Stderr, StderrType, stderrOffset, buffer, frames, cancellationToken).ConfigureAwait(false);
                    progress = outSent || errSent;
                    attachment.Advance(stdoutOffset, stderrOffset);
                }
                while (progress);

                if (finished && stdoutOffset >= session.Stdout.End && stderrOffset >= session.Stderr.End)
                {
                    var terminal = session.ErrorType is { } errorType
                        ? new ExecutionServerFrame { Type = ExecutionFrameTypes.Error, ErrorType = errorType, Error = session.ErrorMessage }
                        : new ExecutionServerFrame { Type = ExecutionFrameTypes.Exit, ExitCode = session.ExitCode ?? -1 };
                    await SendAsync(terminal, cancellationToken).ConfigureAwait(false);
                    await CloseAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }

                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<(long Offset, bool Sent)> SendChunkAsync(OutputBuffer output, byte[] type, long offset, byte[] buffer,
        OutputFrameWriter frames, CancellationToken cancellationToken)
    {
        int count = output.Read(offset, buffer.AsSpan(0, MaxChunkBytes), out long actual, out bool completed);
        if (count == 0)
        {
            return (Math.Max(offset, actual), false);
        }

        int skip = actual > offset ? Utf8Chunker.LeadingContinuationBytes(buffer.AsSpan(0, count)) : 0;
        var span = buffer.AsSpan(skip, count - skip);
        bool atEnd = completed && actual + count >= output.End;
        int length = atEnd ? span.Length : Utf8Chunker.CompletePrefixLength(span);
        if (length == 0)
        {
            return (actual + skip, skip > 0);
        }

        var frame = frames.Write(type, span[..length], actual + skip);
        await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        return (actual + skip + length, true);
    }

    private async Task ReceiveLoopAsync(CommandSession session, CancellationTokenSource clientGone)
    {
        try
        {
            while (!clientGone.IsCancellationRequested)
            {
                var frame = await ReceiveFrameAsync(clientGone.Token).ConfigureAwait(false);
                if (frame is null)
                {
                    break;
                }

                switch (frame.Type)
                {
                    case ExecutionFrameTypes.Kill:
                        session.Kill();
                        break;
                    case ExecutionFrameTypes.Input when frame.Data is not null:
                        _box.Touch(_boxes.Time);
                        await session.SendInputAsync(frame.Data, clientGone.Token).ConfigureAwait(false);
                        break;
                    case ExecutionFrameTypes.CloseStdin:
                        session.CloseStdin();
                        break;
                    case PtyWindow.FrameType when frame.Cols is { } cols && frame.Rows is { } rows:
                        session.TryResize(cols, rows);
                        break;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
        }
        finally
        {
            await clientGone.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task<ExecutionClientFrame?> ReceiveFrameAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter();
        while (true)
        {
            var memory = buffer.GetMemory(8192);
            var result = await _socket.ReceiveAsync(memory, cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            buffer.Advance(result.Count);
            if (buffer.Length > MaxClientMessageBytes)
            {
                await _socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", CancellationToken.None).ConfigureAwait(false);
                return null;
            }

            if (result.EndOfMessage)
            {
                break;
            }
        }

        try
        {
            return JsonSerializer.Deserialize<ExecutionClientFrame>(buffer.WrittenSpan, SandboxJson.Options) ?? new ExecutionClientFrame();
        }
        catch (JsonException)
        {
            return new ExecutionClientFrame { Type = "invalid" };
        }
    }

    private async Task SendErrorAndCloseAsync(string type, string message, CancellationToken cancellationToken)
    {
        await SendAsync(new ExecutionServerFrame { Type = ExecutionFrameTypes.Error, ErrorType = type, Error = message }, cancellationToken).ConfigureAwait(false);
        await CloseAsync(cancellationToken).ConfigureAwait(false);
        await DrainUntilClosedAsync().ConfigureAwait(false);
    }

    /// <summary>After our close frame, waits (bounded) for the client's so the socket ends gracefully.</summary>
    private async Task DrainUntilClosedAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            while (_socket.State == WebSocketState.CloseSent && await ReceiveFrameAsync(timeout.Token).ConfigureAwait(false) is not null)
            {
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
        }
    }

    private Task SendAsync(ExecutionServerFrame frame, CancellationToken cancellationToken)
    {
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(frame, SandboxJson.Options);
        return _socket.SendAsync(json, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
    }

    private async Task CloseAsync(CancellationToken cancellationToken)
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token).ConfigureAwait(false);
        }
    }

    private sealed class ArrayBufferWriter
    {
        private byte[] _buffer = new byte[8192];

        public int Length { get; private set; }

        public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

        public Memory<byte> GetMemory(int size)
        {
            if (_buffer.Length - Length < size)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + size));
            }

            return _buffer.AsMemory(Length);
        }

        public void Advance(int count) => Length += count;
    }
}
