using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>Runs code for <c>run_code</c>: persistent interpreters for python/javascript, one process per call for bash.</summary>
internal sealed class CodeRunner(SandboxToolOptions options, WorkspacePathPolicy policy, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(10);

    private readonly SandboxToolOptions _options = options;
    private readonly WorkspacePathPolicy _policy = policy;
    private readonly TimeProvider _time = time;
    private readonly ILogger _logger = logger;

    public async Task<(RunCodeResult Result, IReadOnlyList<DataContent> Images)> RunAsync(SandboxLease lease, CodeLanguage language, string code,
        TimeSpan timeout, string conversationId, string? toolCallId, CancellationToken cancellationToken)
    {
        OutputForwarder? forwarder = _options.OnOutput is { } onOutput
            ? new OutputForwarder(onOutput, conversationId, toolCallId, Display(language), _logger)
            : null;
        SandboxInstance box = lease.Sandbox;
        BoxToolState state = lease.Box.GetOrAttach(static _ => new BoxToolState());
        Log.RunCode(_logger, language.ToString(), box.Name, code);

        var notes = new List<string>();
        bool stateLost = false;
        if (lease.PreviousSandboxLost && !state.SandboxLossReported)
        {
            stateLost = true;
            notes.Add("This conversation's previous sandbox was reclaimed (idle too long or too old); a fresh one replaced it. Files and interpreter state from before are gone: recreate what you need.");
        }

        state.SandboxLossReported = true;
        WorkspaceSnapshot? before = null;
        if (_options.TrackFileChanges)
        {
            before = state.LastSnapshot ?? await SandboxFiles.SnapshotAsync(box, _policy, _options.MaxTrackedFiles, cancellationToken).ConfigureAwait(false);
            state.LastSnapshot = null;
        }

        Dictionary<string, string> env = TracingEnvironment.Build(_options.Tracing, Activity.Current);
        long started = _time.GetTimestamp();
        RunCodeResult result;
        IReadOnlyList<string> imagePaths = [];
        if (language == CodeLanguage.Bash)
        {
            result = await RunBashAsync(box, code, env, timeout, forwarder, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            InterpreterSession? session = state.GetSession(language);
            if (session is { HasExited: true })
            {
                stateLost = true;
                string reason = session.ExitReason ?? "it stopped";
                Log.InterpreterLost(_logger, language.ToString(), box.Name, reason);
                notes.Add($"The {Display(language)} interpreter had stopped since the last call ({reason}). It was restarted and its state was lost: variables, imports and functions defined before are gone; re-run any setup code you need.");
                state.SetSession(language, null);
                await session.DisposeAsync().ConfigureAwait(false);
                session = null;
            }

            if (session is null)
            {
                session = await StartInterpreterAsync(box, state, language, cancellationToken).ConfigureAwait(false);
                state.SetSession(language, session);
            }

            InterpreterOutcome outcome = await session.ExecuteAsync(code, env, timeout, forwarder, cancellationToken).ConfigureAwait(false);
            if (outcome.Exited)
            {
                stateLost = true;
                Log.InterpreterLost(_logger, language.ToString(), box.Name, outcome.ExitReason ?? "exited");
                notes.Add($"The {Display(language)} interpreter stopped while running this code ({outcome.ExitReason ?? "it exited"}). Its state (variables, imports, functions) is lost; it starts fresh on the next call.");
                state.SetSession(language, null);
                await session.DisposeAsync().ConfigureAwait(false);
            }

            imagePaths = outcome.Status?.Images ?? [];
            result = ShapeInterpreterResult(language, outcome, timeout);
        }

        TimeSpan elapsed = _time.GetElapsedTime(started);
        List<FileChange>? changes = null;
        int? omitted = null;
        if (before is not null)
        {
            WorkspaceSnapshot after = await SandboxFiles.SnapshotAsync(box, _policy, _options.MaxTrackedFiles, cancellationToken).ConfigureAwait(false);
            state.LastSnapshot = after;
            changes = SandboxFiles.Diff(before, after, _policy);
            if (changes.Count > _options.MaxReportedChanges)
            {
                omitted = changes.Count - _options.MaxReportedChanges;
                changes.RemoveRange(_options.MaxReportedChanges, changes.Count - _options.MaxReportedChanges);
            }
        }

        List<DataContent> images = await ReadImagesAsync(box, imagePaths, notes, cancellationToken).ConfigureAwait(false);
        if (result.Note is { } own)
        {
            notes.Add(own);
        }

        result = result with
        {
            DurationMs = Math.Round(elapsed.TotalMilliseconds, 1),
            StateLost = stateLost,
            Note = notes.Count == 0 ? null : string.Join(" ", notes),
            FilesChanged = changes,
            FilesChangedOmitted = omitted,
            Images = images.Count == 0 ? null : images.Select(i => i.Name ?? "image").ToList(),
        };
        return (result, images);
    }

    private async Task<InterpreterSession> StartInterpreterAsync(SandboxInstance box, BoxToolState state, CodeLanguage language, CancellationToken cancellationToken)
    {
        string driverPath = _options.ToolsDirectory.TrimEnd('/') + "/" + DriverScripts.FileName(language);
        if (!state.IsDriverUploaded(language))
        {
            await box.WriteFileAsync(driverPath, DriverScripts.Content(language), cancellationToken).ConfigureAwait(false);
            state.MarkDriverUploaded(language);
        }

        return await InterpreterSession.StartAsync(box, language, driverPath, _options, _time, _logger, cancellationToken).ConfigureAwait(false);
    }

    private static RunCodeResult ShapeInterpreterResult(CodeLanguage language, InterpreterOutcome outcome, TimeSpan timeout)
    {
        string status;
        int? exitCode;
        string? error = outcome.Status?.Error;
        string? note = null;
        if (outcome.OutputLimited)
        {
            status = "output_limit";
            exitCode = outcome.Exited ? null : 130;
            error = "The code printed more output than the per-call limit and was interrupted.";
            note = "Write large results to a file and look at parts of it with read_file, or print a summary instead."
                + (outcome.Exited ? null : " The interpreter kept its state.");
        }
        else if (outcome.TimedOut)
        {
            status = "timed_out";
            exitCode = outcome.Exited ? null : 130;
            error = $"The code ran longer than {FormatSeconds(timeout)} and was interrupted.";
            note = outcome.Exited
                ? null
                : "The interpreter was interrupted but kept its state. Run long work in smaller steps, or call run_code again with a larger timeout_seconds.";
        }
        else if (outcome.Status is null)
        {
            status = "interpreter_exited";
            exitCode = null;
            error ??= "The interpreter exited before finishing the code.";
        }
        else
        {
            (status, exitCode) = outcome.Status.Status switch
            {
                "ok" => ("ok", 0),
                "interrupted" => ("timed_out", 130),
                _ => ("error", 1),
            };
            if (status == "error")
            {
                note = "The code raised an error; the traceback is in stderr. Earlier state is kept: fix the code and run only the failing part again.";
            }
        }

        return new RunCodeResult
        {
            Language = Display(language),
            Status = status,
            ExitCode = exitCode,
            Stdout = outcome.Stdout.Text,
            Stderr = outcome.Stderr.Text,
            StdoutBytes = outcome.Stdout.TotalBytes,
            StderrBytes = outcome.Stderr.TotalBytes,
            StdoutTruncated = outcome.Stdout.Truncated,
            StderrTruncated = outcome.Stderr.Truncated,
            TimedOut = outcome.TimedOut,
            Error = error,
            Note = note,
        };
    }

    private async Task<RunCodeResult> RunBashAsync(SandboxInstance box, string code, Dictionary<string, string> env, TimeSpan timeout,
        OutputForwarder? forwarder, CancellationToken cancellationToken)
    {
        var stdout = new HeadTailBuffer(_options.OutputHeadBytes, _options.OutputTailBytes);
        var stderr = new HeadTailBuffer(_options.OutputHeadBytes, _options.OutputTailBytes);
        // The model's bash code is the command itself (that is the tool's purpose); it runs in the workspace.
        await using CommandHandle handle = await box.StartCommandAsync(code, new RunOptions
        {
            Cwd = _policy.Root,
            Env = env,
            Timeout = timeout + TimeSpan.FromSeconds(5),
            KillOnDisconnect = true,
        }, cancellationToken).ConfigureAwait(false);

        using var deadline = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        bool timedOut = false;
        bool outputLimited = false;
        int? exitCode = null;
        try
        {
            await foreach (OutputChunk chunk in handle.ReadOutputAsync(linked.Token).ConfigureAwait(false))
            {
                bool isStdout = chunk.Stream == OutputStreamKind.Stdout;
                (isStdout ? stdout : stderr).Append(chunk.Data);
                forwarder?.Forward(isStdout ? ToolOutputStream.Stdout : ToolOutputStream.Stderr, chunk.Data);
                if (stdout.TotalBytes + stderr.TotalBytes > _options.MaxOutputBytesPerCall)
                {
                    outputLimited = true;
                    break;
                }
            }

            if (outputLimited)
            {
                await KillQuietlyAsync(handle).ConfigureAwait(false);
            }
            else
            {
                CommandResult done = await handle.WaitAsync(linked.Token).ConfigureAwait(false);
                exitCode = done.ExitCode;
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            timedOut = true;
            await KillQuietlyAsync(handle).ConfigureAwait(false);
        }
        catch (CommandTimeoutException)
        {
            timedOut = true;
        }

        TruncatedText outText = stdout.ToTruncatedText();
        TruncatedText errText = stderr.ToTruncatedText();
        return new RunCodeResult
        {
            Language = "bash",
            Status = outputLimited ? "output_limit" : timedOut ? "timed_out" : exitCode == 0 ? "ok" : "error",
            ExitCode = exitCode,
            Stdout = outText.Text,
            Stderr = errText.Text,
            StdoutBytes = outText.TotalBytes,
            StderrBytes = errText.TotalBytes,
            StdoutTruncated = outText.Truncated,
            StderrTruncated = errText.Truncated,
            TimedOut = timedOut,
            Error = outputLimited ? "The command printed more output than the per-call limit and was killed."
                : timedOut ? $"The command ran longer than {FormatSeconds(timeout)} and was killed." : null,
            Note = outputLimited ? "Redirect large output to a file (cmd > out.txt) and read parts of it with read_file."
                : timedOut
                ? "Start long-running programs in the background (e.g. 'nohup cmd > log 2>&1 &') or raise timeout_seconds."
                : exitCode is not 0 ? "The command failed; see stderr." : null,
        };
    }

    private static async Task KillQuietlyAsync(CommandHandle handle)
    {
        using var kill = new CancellationTokenSource(KillTimeout);
        try
        {
            await handle.KillAsync(kill.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SandboxException or OperationCanceledException or InvalidOperationException)
        {
            // Already finished or gone.
        }
    }

    private async Task<List<DataContent>> ReadImagesAsync(SandboxInstance box, IReadOnlyList<string> paths, List<string> notes, CancellationToken cancellationToken)
    {
        var images = new List<DataContent>();
        foreach (string path in paths)
        {
            if (images.Count >= _options.MaxImagesPerCall)
            {
                notes.Add($"Only the first {_options.MaxImagesPerCall} images are returned; {paths.Count - images.Count} more were produced.");
                break;
            }

            string? mediaType = MediaTypes.FromExtension(path);
            if (mediaType is null)
            {
                continue;
            }

            byte[] bytes;
            try
            {
                bytes = await box.ReadFileAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (SandboxException)
            {
                notes.Add($"The image {Path.GetFileName(path)} could not be read back.");
                continue;
            }

            if (bytes.Length > _options.MaxImageBytes)
            {
                notes.Add($"The image {Path.GetFileName(path)} is {bytes.Length} bytes, over the {_options.MaxImageBytes}-byte limit; it is not returned. Save a smaller figure (lower dpi or size).");
                continue;
            }

            images.Add(new DataContent(bytes, mediaType) { Name = Path.GetFileName(path) });
        }

        return images;
    }

    internal static string Display(CodeLanguage language) => language switch
    {
        CodeLanguage.Python => "python",
        CodeLanguage.JavaScript => "javascript",
        _ => "bash",
    };

    private static string FormatSeconds(TimeSpan value) => value.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture) + " s";
}
