using System.Net.WebSockets;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Command execution (spec §8.2, §8.5, delta §6).</summary>
public sealed partial class SandboxInstance
{
    private const int MaxConnectRetries = 5;

    /// <summary>
    /// Runs a command and waits for it to finish, streaming over <c>/execute/ws</c> (or, with
    /// <see cref="RunOptions.UseHttpExecute"/>, the blocking HTTP endpoint). A non-zero exit code is returned, not thrown.
    /// </summary>
    /// <param name="command">The shell command.</param>
    /// <param name="options">Timeouts, environment, stdin, PTY, output callback.</param>
    /// <param name="cancellationToken">Stops waiting and detaches (the command keeps running; it is not killed).</param>
    /// <returns>Collected stdout/stderr and the exit code.</returns>
    /// <exception cref="DataplaneNotConfiguredException">The sandbox has no data-plane URL.</exception>
    /// <exception cref="CommandTimeoutException">The command exceeded its deadline.</exception>
    /// <exception cref="SandboxConnectionException">The stream could not be opened or re-attached.</exception>
    public async Task<CommandResult> RunAsync(string command, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RunOptions();
        if (options.UseHttpExecute)
        {
            return await ExecuteOverHttpAsync(command, options, cancellationToken).ConfigureAwait(false);
        }

        await using var handle = await StartCoreAsync(command, options, cancellationToken).ConfigureAwait(false);
        return await handle.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts a command and returns once the server acknowledged it with <c>started</c>. Connect failures before that
    /// (clean close with 1000 — or 1001, which Python cannot tell apart and retries too — upgrade 429/5xx, connect
    /// timeout) are retried with the same command id: at most 6 attempts, backoff <c>min(0.5·2^(n−1), 8)</c> s (jittered
    /// ×[0.8, 1) for connection errors, or the server's numeric <c>Retry-After</c>), all within the connect budget
    /// (spec §8.5.10, delta §6.6). Any other close code or an upgrade rejected with 4xx (except 429) is not retried.
    /// </summary>
    /// <param name="command">The shell command.</param>
    /// <param name="options">Timeouts, environment, stdin and PTY. <see cref="RunOptions.OnOutput"/> is refused here (as in
    /// the Python SDK): read <see cref="CommandHandle.ReadOutputAsync"/> instead.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The attached command.</returns>
    /// <exception cref="SandboxValidationException">Invalid option combination; nothing is sent.</exception>
    public Task<CommandHandle> StartCommandAsync(string command, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RunOptions();
        if (options.OnOutput is not null)
        {
            throw new SandboxValidationException(
                "Cannot combine StartCommandAsync with an OnOutput callback; read CommandHandle.ReadOutputAsync instead", "on_output");
        }

        if (options.UseHttpExecute)
        {
            throw new SandboxValidationException("UseHttpExecute is only supported by RunAsync", "use_http_execute");
        }

        return StartCoreAsync(command, options, cancellationToken);
    }

    /// <summary>
    /// Re-attaches to a command by id, resuming output at the given byte offsets (<c>{"type":"reconnect"}</c>). Does not
    /// wait for the <c>started</c> acknowledgement.
    /// </summary>
    /// <param name="commandId">The command id.</param>
    /// <param name="stdoutOffset">Byte offset in stdout to resume from.</param>
    /// <param name="stderrOffset">Byte offset in stderr to resume from.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The attached command. stdin is treated as open; errors such as <c>CommandNotFound</c> surface while reading
    /// (operation <c>reconnect</c>).</returns>
    public Task<CommandHandle> ReconnectAsync(string commandId, long stdoutOffset = 0, long stderrOffset = 0, CancellationToken cancellationToken = default) =>
        ReconnectAsync(commandId, stdoutOffset, stderrOffset, pty: false, stdinClosed: false, cancellationToken);

    /// <summary>Re-attaches to a command, carrying its PTY and stdin-closed state into the new handle (delta §6.5; this
    /// state is client-side only and never sent).</summary>
    /// <param name="commandId">The command id.</param>
    /// <param name="stdoutOffset">Byte offset in stdout to resume from.</param>
    /// <param name="stderrOffset">Byte offset in stderr to resume from.</param>
    /// <param name="pty">Whether the command runs under a PTY.</param>
    /// <param name="stdinClosed">Whether the command's stdin is already closed.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The attached command.</returns>
    public async Task<CommandHandle> ReconnectAsync(string commandId, long stdoutOffset, long stderrOffset, bool pty, bool stdinClosed, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(commandId);
        if (stdoutOffset < 0 || stderrOffset < 0)
        {
            throw new SandboxValidationException("Offsets must be >= 0", stdoutOffset < 0 ? "stdout_offset" : "stderr_offset");
        }

        var stream = await OpenReconnectStreamAsync(commandId, stdoutOffset, stderrOffset, null, cancellationToken).ConfigureAwait(false);
        return new CommandHandle(this, stream, commandId, null, isReattach: true, stdoutOffset, stderrOffset, pty, stdinClosed && !pty, null, null, null);
    }

    internal async Task<ExecutionStream> OpenReconnectStreamAsync(string commandId, long stdoutOffset, long stderrOffset, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var stream = await OpenExecutionStreamAsync(Client.Options.WebSocketOpenTimeout, headers, cancellationToken).ConfigureAwait(false);
        try
        {
            await stream.SendAsync(new ExecutionClientFrame
            {
                Type = ExecutionFrameTypes.Reconnect,
                CommandId = commandId,
                StdoutOffset = stdoutOffset,
                StderrOffset = stderrOffset,
            }, cancellationToken).ConfigureAwait(false);
            return stream;
        }
        catch
        {
            await stream.CloseAsync(WebSocketCloseStatus.InternalServerError).ConfigureAwait(false);
            throw;
        }
    }

    internal async Task<ExecutionStream> OpenExecutionStreamAsync(TimeSpan openTimeout, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var uri = GetDataplaneWebSocketUri("/execute/ws");
        var socket = await WebSocketConnector.ConnectAsync(
            Client.Runtime, uri, MergeHeaders(headers), openTimeout, keepAlive: true, cancellationToken).ConfigureAwait(false);
        return new ExecutionStream(socket, Client.Options.WebSocketCloseTimeout);
    }

    private Dictionary<string, string> MergeHeaders(IReadOnlyDictionary<string, string>? perCall)
    {
        var headers = Client.Runtime.Headers();
        if (perCall is not null)
        {
            foreach (var pair in perCall)
            {
                headers[pair.Key] = pair.Value;
            }
        }

        return headers;
    }

    internal static ExecutionClientFrame BuildExecuteFrame(string command, RunOptions options, string commandId)
    {
        ValidateRunConfig(options);
        var closeStdin = !options.Pty && (options.CloseStdin ?? true);
        return new ExecutionClientFrame
        {
            Type = ExecutionFrameTypes.Execute,
            Command = command,
            TimeoutSeconds = SecondsOrDefault(options.Timeout == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : options.Timeout, 60, "timeout"),
            Shell = options.Shell,
            IdleTimeoutSeconds = SecondsOrDefault(options.IdleTimeout, 300, "idle_timeout"),
            KillOnDisconnect = options.KillOnDisconnect,
            TtlSeconds = SecondsOrDefault(options.SessionTtl, 600, "ttl"),
            CommandId = commandId,
            Env = options.Env is { Count: > 0 } env ? env : null,
            Cwd = string.IsNullOrEmpty(options.Cwd) ? null : options.Cwd,
            Pty = options.Pty ? true : null,
            RunConfig = options.RunConfig,
            CloseStdin = closeStdin ? true : null,
        };
    }

    /// <summary>A command id in the Python SDK's form: a UUIDv7 as 32 lower-case hex digits.</summary>
    internal static string NewCommandId() => Guid.CreateVersion7().ToString("N");

    private async Task<CommandHandle> StartCoreAsync(string command, RunOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        RequireDataplane();
        var commandId = string.IsNullOrEmpty(options.CommandId) ? NewCommandId() : options.CommandId;
        var frame = BuildExecuteFrame(command, options, commandId);
        var runtime = Client.Runtime;
        var budget = Client.Options.ConnectBudget;
        DateTimeOffset? deadline = budget > TimeSpan.Zero ? runtime.Time.GetUtcNow() + budget : null;
        var attempt = 0;
        while (true)
        {
            var openTimeout = Client.Options.WebSocketOpenTimeout;
            if (deadline is { } d)
            {
                var left = d - runtime.Time.GetUtcNow();
                left = left < TimeSpan.Zero ? TimeSpan.Zero : left;
                openTimeout = openTimeout > TimeSpan.Zero && openTimeout < left ? openTimeout : left;
            }

            SandboxException retryable;
            try
            {
                return await AttemptStartAsync(frame, options, openTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (StreamEndedBeforeStartedException ex)
            {
                retryable = ex;
            }
            catch (SandboxRetryableConnectionException ex)
            {
                retryable = ex;
            }

            attempt++;
            if (attempt > MaxConnectRetries)
            {
                throw retryable;
            }

            var backoff = Math.Min(0.5 * Math.Pow(2, attempt - 1), 8);
            TimeSpan delay;
            if (retryable is SandboxRetryableConnectionException { RetryAfter: { } retryAfter })
            {
                delay = retryAfter;
            }
            else if (retryable is SandboxRetryableConnectionException)
            {
                delay = TimeSpan.FromSeconds(backoff * (0.8 + (0.2 * runtime.NextRandom())));
            }
            else
            {
                delay = TimeSpan.FromSeconds(backoff);
            }

            if (deadline is { } end)
            {
                var remaining = end - runtime.Time.GetUtcNow();
                if (remaining <= TimeSpan.Zero)
                {
                    throw retryable;
                }

                delay = delay < remaining ? delay : remaining;
            }

            Log.ConnectRetry(runtime.Logger, attempt, retryable.Message, delay.TotalSeconds);
            await runtime.DelayAsync(delay, cancellationToken).ConfigureAwait(false);
            if (deadline is { } stop && stop - runtime.Time.GetUtcNow() <= TimeSpan.Zero)
            {
                throw retryable; // never open with a zero open timeout
            }
        }
    }

    private async Task<CommandHandle> AttemptStartAsync(ExecutionClientFrame frame, RunOptions options, TimeSpan openTimeout, CancellationToken cancellationToken)
    {
        var stream = await OpenExecutionStreamAsync(openTimeout, options.Headers, cancellationToken).ConfigureAwait(false);
        var handedOver = false;
        try
        {
            if (!await stream.SendAsync(frame, cancellationToken).ConfigureAwait(false))
            {
                throw new StreamEndedBeforeStartedException("Command stream ended before the 'started' message");
            }

            var first = await stream.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (first.Frame is { } message)
            {
                if (message.Type == ExecutionFrameTypes.Error)
                {
                    throw ErrorMapper.ErrorFrame(message.ErrorType, message.Error, reattach: false, frame.CommandId!, TimeoutOf(options));
                }

                if (message.Type != ExecutionFrameTypes.Started)
                {
                    throw new SandboxOperationException($"Expected 'started' message, got '{message.Type}'", "command");
                }

                var handle = new CommandHandle(
                    this, stream, message.CommandId ?? frame.CommandId!, message.Pid, isReattach: false, 0, 0,
                    options.Pty, stdinClosed: frame.CloseStdin == true, options.OnOutput, options.Headers, TimeoutOf(options),
                    options.CollectOutput);
                handedOver = true;
                return handle;
            }

            // Python treats 1000 and 1001 alike before 'started' (the websockets library reports both as a clean close):
            // the early-close marker, retried with the same command id.
            throw first.End is StreamEnd.Clean or StreamEnd.GoingAway
                ? new StreamEndedBeforeStartedException("Command stream ended before the 'started' message")
                : first.Error ?? new SandboxConnectionException("Execution stream closed unexpectedly");
        }
        finally
        {
            if (!handedOver)
            {
                await stream.CloseAsync(WebSocketCloseStatus.InternalServerError).ConfigureAwait(false);
            }
        }
    }

    private async Task<CommandResult> ExecuteOverHttpAsync(string command, RunOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (options.OnOutput is not null)
        {
            throw new SandboxValidationException("OnOutput needs the WebSocket transport; it cannot be combined with UseHttpExecute", "on_output");
        }

        ValidateRunConfig(options);
        var url = DataplaneUrlFor("/execute");
        var timeout = SecondsOrDefault(options.Timeout == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : options.Timeout, 60, "timeout");
        var request = new ExecuteRequest
        {
            Command = command,
            Timeout = timeout,
            Shell = options.Shell,
            Env = options.Env,
            RunConfig = options.RunConfig,
            Cwd = string.IsNullOrEmpty(options.Cwd) ? null : options.Cwd,
        };
        using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = SandboxRuntime.JsonBody(request) };
        using var response = await Client.Runtime.SendAsync(message, TimeSpan.FromSeconds(timeout + 10), cancellationToken, extraHeaders: options.Headers).ConfigureAwait(false);
        await ThrowDataPlaneAsync(response, cancellationToken).ConfigureAwait(false);
        var result = await SandboxRuntime.ReadJsonAsync<ExecuteResponse>(response, cancellationToken).ConfigureAwait(false);
        return new CommandResult(result.Stdout ?? "", result.Stderr ?? "", result.ExitCode);
    }

    private static void ValidateRunConfig(RunOptions options)
    {
        if (options.RunConfig is not null && (options.Env is not null || !string.IsNullOrEmpty(options.Cwd)))
        {
            throw new SandboxValidationException(
                "RunConfig cannot be combined with Env or Cwd; use RunConfig.EnvVars and RunConfig.WorkDir", "run_config");
        }
    }

    private static TimeSpan? TimeoutOf(RunOptions options) => options.Timeout ?? TimeSpan.FromSeconds(60);

    /// <summary>Whole seconds; <see cref="Timeout.InfiniteTimeSpan"/> maps to -1 ("never"/"forever").</summary>
    private static int SecondsOrDefault(TimeSpan? value, int fallback, string field)
    {
        if (value is not { } span)
        {
            return fallback;
        }

        if (span == Timeout.InfiniteTimeSpan)
        {
            return -1;
        }

        if (span < TimeSpan.Zero)
        {
            throw new SandboxValidationException($"{field} must be >= 0 (or Timeout.InfiniteTimeSpan)", field);
        }

        return (int)Math.Ceiling(span.TotalSeconds);
    }
}
