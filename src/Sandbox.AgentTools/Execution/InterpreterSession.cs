using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>
/// A long-running interpreter (python or node) inside a box, driven over stdin/stdout by a small driver script, so
/// variables, imports and functions persist between calls.
/// </summary>
/// <remarks>Calls are sequential (the conversation's lease serializes them); the read loop runs on its own.</remarks>
internal sealed class InterpreterSession : IAsyncDisposable
{
    private static readonly TimeSpan KillCommandTimeout = TimeSpan.FromSeconds(10);

    private readonly SandboxInstance _box;
    private readonly CodeLanguage _language;
    private readonly CommandHandle _handle;
    private readonly string _marker;
    private readonly string _outDir;
    private readonly SandboxToolOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PendingCall? _current;
    private Task _readLoop = Task.CompletedTask;
    private long _sequence;

    private InterpreterSession(SandboxInstance box, CodeLanguage language, CommandHandle handle, string marker,
        SandboxToolOptions options, TimeProvider time, ILogger logger)
    {
        _box = box;
        _language = language;
        _handle = handle;
        _marker = marker;
        _outDir = options.ToolsDirectory.TrimEnd('/') + "/out/" + language.ToString().ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..12];
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Pid of the interpreter inside the box.</summary>
    public int? Pid => _handle.Pid;

    /// <summary>True once the interpreter process has ended (or its stream was lost).</summary>
    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Why the interpreter ended, for the model ("exit code 1", "the output stream failed: ...").</summary>
    public string? ExitReason { get; private set; }

    public static async Task<InterpreterSession> StartAsync(SandboxInstance box, CodeLanguage language, string driverPath,
        SandboxToolOptions options, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        string marker = "\u001eSANDBOX-" + Guid.NewGuid().ToString("N") + "\u001e";
        string interpreter = language == CodeLanguage.Python ? options.PythonCommand : options.NodeCommand;
        // driverPath is the tools layer's own constant location, never model input; quoted all the same.
        string command = "exec " + interpreter + " " + ShellQuote(driverPath);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SANDBOX_REPL_MARKER"] = marker,
            ["PYTHONUNBUFFERED"] = "1",
            ["MPLBACKEND"] = "Agg",
        };
        CommandHandle handle = await box.StartCommandAsync(command, new RunOptions
        {
            CloseStdin = false,
            Timeout = TimeSpan.Zero,
            Cwd = options.WorkspaceRoot,
            Env = env,
            IdleTimeout = options.InterpreterDetachedTimeout,
            KillOnDisconnect = false,
            CollectOutput = false, // read chunk by chunk below; the handle need not keep a second copy of a long session
        }, cancellationToken).ConfigureAwait(false);
        var session = new InterpreterSession(box, language, handle, marker, options, time, logger);
        session._readLoop = Task.Run(session.ReadLoopAsync, CancellationToken.None);
        return session;
    }

    /// <summary>Runs one cell. Returns when the driver reports completion, the timeout interrupted it, or the interpreter died.</summary>
    /// <param name="code">The cell.</param>
    /// <param name="env">Environment for the cell.</param>
    /// <param name="timeout">Interrupt the cell after this long.</param>
    /// <param name="forwarder">Receives the cell's output as it arrives (the user's output only); null for none.</param>
    /// <param name="cancellationToken">Interrupts the cell and ends the wait.</param>
    public async Task<InterpreterOutcome> ExecuteAsync(string code, IReadOnlyDictionary<string, string> env, TimeSpan timeout,
        OutputForwarder? forwarder, CancellationToken cancellationToken)
    {
        if (HasExited)
        {
            throw new InvalidOperationException("The interpreter has exited.");
        }

        long seq = Interlocked.Increment(ref _sequence);
        string id = seq.ToString(CultureInfo.InvariantCulture);
        var call = new PendingCall(_marker, _options, forwarder) { Limit = _options.MaxOutputBytesPerCall };
        Volatile.Write(ref _current, call);
        try
        {
            string request = JsonSerializer.Serialize(new DriverRequest(id, code, _outDir, env), ToolJsonContext.Default.DriverRequest);
            try
            {
                await _handle.SendInputAsync(request + "\n", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A dead interpreter's stream refuses input: report it as exited rather than as a service failure.
                await WaitAsync(_exited.Task, KillCommandTimeout, CancellationToken.None).ConfigureAwait(false);
                if (!HasExited)
                {
                    throw;
                }

                return new InterpreterOutcome(call.Stdout.ToTruncatedText(), call.Stderr.ToTruncatedText(), null, TimedOut: false, OutputLimited: false, Exited: true, ExitReason);
            }

            bool timedOut = false;
            bool killed = false;
            Task doneOrFlooding = Task.WhenAny(call.Done.Task, call.OverLimit.Task);
            Task finished = await WaitAsync(doneOrFlooding, timeout, cancellationToken).ConfigureAwait(false);
            if (finished != doneOrFlooding || !call.Done.Task.IsCompleted)
            {
                // Timeout, too much output, or the host cancelled: interrupt this call, keep the interpreter and its globals.
                timedOut = !cancellationToken.IsCancellationRequested && !call.OverLimit.Task.IsCompleted;
                killed = !await InterruptAsync(call, timeout).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }

            DriverStatus? status = call.StdoutScanner.Completed ? ParseStatus(call.StdoutScanner.Status) : null;
            return new InterpreterOutcome(
                call.Stdout.ToTruncatedText(),
                call.Stderr.ToTruncatedText(),
                status,
                TimedOut: timedOut,
                OutputLimited: call.OverLimit.Task.IsCompleted,
                Exited: HasExited || killed,
                ExitReason: killed ? "it did not respond to an interrupt after the timeout and was killed" : ExitReason);
        }
        finally
        {
            Volatile.Write(ref _current, null);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!HasExited)
            {
                using var timeout = new CancellationTokenSource(KillCommandTimeout);
                await _handle.KillAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception)
        {
            // The box may be gone already; the session is being thrown away either way.
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Ended by the cancellation above.
        }

        await _handle.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task<bool> InterruptAsync(PendingCall call, TimeSpan timeout)
    {
        if (Pid is int pid && !HasExited)
        {
            Log.InterpreterInterrupt(_logger, _language.ToString(), pid, _box.Name, timeout);
            try
            {
                using var killTimeout = new CancellationTokenSource(KillCommandTimeout);
                await _box.RunAsync("kill -INT " + pid.ToString(CultureInfo.InvariantCulture),
                    new RunOptions { Timeout = KillCommandTimeout }, killTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SandboxException or OperationCanceledException)
            {
                // Fall through to the grace wait and the kill below.
            }

            Task done = await WaitAsync(call.Done.Task, _options.InterruptGracePeriod, CancellationToken.None).ConfigureAwait(false);
            if (done == call.Done.Task)
            {
                return true;
            }
        }

        Log.InterpreterKilled(_logger, _language.ToString(), _box.Name);
        try
        {
            using var killTimeout = new CancellationTokenSource(KillCommandTimeout);
            await _handle.KillAsync(killTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException or InvalidOperationException)
        {
            // Already gone.
        }

        ExitReason ??= "it did not respond to an interrupt and was killed";
        await WaitAsync(_exited.Task, KillCommandTimeout, CancellationToken.None).ConfigureAwait(false);
        _exited.TrySetResult();
        return false;
    }

    private async Task<Task> WaitAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (task.IsCompleted)
        {
            return task;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(timeout, _time, cts.Token);
        Task winner = await Task.WhenAny(task, delay).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        return winner;
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            await foreach (OutputChunk chunk in _handle.ReadOutputAsync(_stop.Token).ConfigureAwait(false))
            {
                Volatile.Read(ref _current)?.OnChunk(chunk);
            }

            CommandResult result = await _handle.WaitAsync(_stop.Token).ConfigureAwait(false);
            ExitReason ??= "it exited with code " + result.ExitCode.ToString(CultureInfo.InvariantCulture);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            ExitReason ??= "it was stopped";
        }
        catch (Exception ex)
        {
            ExitReason ??= "its output stream failed (" + ex.GetType().Name + ")";
        }
        finally
        {
            _exited.TrySetResult();
            Volatile.Read(ref _current)?.Done.TrySetResult();
        }
    }

    private static DriverStatus? ParseStatus(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, ToolJsonContext.Default.DriverStatus);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>One call in flight: its bounded output and the completion signal.</summary>
    private sealed class PendingCall
    {
        public PendingCall(string marker, SandboxToolOptions options, OutputForwarder? forwarder)
        {
            Stdout = new HeadTailBuffer(options.OutputHeadBytes, options.OutputTailBytes);
            Stderr = new HeadTailBuffer(options.OutputHeadBytes, options.OutputTailBytes);
            StdoutScanner = new MarkerScanner(marker, Stdout, forwarder is null ? null : text => forwarder.Forward(ToolOutputStream.Stdout, text));
            StderrScanner = new MarkerScanner(marker, Stderr, forwarder is null ? null : text => forwarder.Forward(ToolOutputStream.Stderr, text));
        }

        public HeadTailBuffer Stdout { get; }

        public HeadTailBuffer Stderr { get; }

        public MarkerScanner StdoutScanner { get; }

        public MarkerScanner StderrScanner { get; }

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completed when the call printed more than <see cref="SandboxToolOptions.MaxOutputBytesPerCall"/>.</summary>
        public TaskCompletionSource OverLimit { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Limit { get; init; }

        public void OnChunk(OutputChunk chunk)
        {
            (chunk.Stream == OutputStreamKind.Stdout ? StdoutScanner : StderrScanner).Feed(chunk.Data);
            if (Stdout.TotalBytes + Stderr.TotalBytes > Limit)
            {
                OverLimit.TrySetResult();
            }

            if (StdoutScanner.Completed && StderrScanner.Completed)
            {
                Done.TrySetResult();
            }
        }
    }
}
