using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Sandbox.Protocol;
using Sandbox.Server.Commands;
using Sandbox.Server.Errors;
using Sandbox.Server.Files;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>
/// The SDKs' Dockerfile flow (spec §6.18) served by this server: the build command the SDK runs in its builder sandbox
/// (<see cref="BuildScriptRequest"/>) becomes a server-side build (<see cref="DockerfileBuilder"/>) whose log is that
/// command's output and whose result is that command's exit code, and the capture that follows
/// (<c>POST /boxes/{builder}/snapshot</c> with <c>docker_image</c> = the build's tag) adopts the built snapshot under the
/// requested name. A built snapshot not adopted is removed with its builder sandbox.
/// </summary>
internal sealed partial class DockerfileBuilds
{
    private readonly BoxManager _boxes;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, (string BuilderId, string SnapshotId)> _built = new(StringComparer.Ordinal);

    public DockerfileBuilds(BoxManager boxes, ILogger logger)
    {
        _boxes = boxes;
        _logger = logger;
    }

    /// <summary>
    /// When <paramref name="spec"/> is the SDK's build command, starts the build and returns its command session (a host
    /// process relaying the build log; killing it or its deadline cancels the build); null for any other command.
    /// </summary>
    public Func<Task<CommandSession>>? TryIntercept(Box box, RunningBox running, CommandSpec spec, CommandLauncher launcher, Action<CommandSession> onFinished)
    {
        if (spec.Pty || !BuildScriptRequest.TryParse(spec.Command, out var request))
        {
            return null;
        }

        return () => Task.FromResult(Start(box, running, spec with { Request = spec.Request with { CloseStdin = false } }, request!, launcher, onFinished));
    }

    private CommandSession Start(Box box, RunningBox running, CommandSpec spec, BuildScriptRequest request, CommandLauncher launcher, Action<CommandSession> onFinished)
    {
        string relayDir = Directory.CreateTempSubdirectory("sandbox-dockerfile-").FullName; // 0700
        string exitFile = Path.Combine(relayDir, "exit");
        var psi = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/bin:/bin";
        foreach (string arg in (string[])["-c", "cat; read -r code < \"$0\" 2>/dev/null; exit \"${code:-1}\"", exitFile])
        {
            psi.ArgumentList.Add(arg);
        }

        var session = launcher.StartHostProcess(running, spec, psi, out var process, s =>
        {
            onFinished(s);
            FileTree.Delete(relayDir);
        });
        var input = process.StandardInput;
        var cancel = new CancellationTokenSource();
        _ = process.WaitForExitAsync(CancellationToken.None).ContinueWith(_ => cancel.Cancel(), TaskScheduler.Default);
        var gate = new object();

        void Log(string line)
        {
            lock (gate)
            {
                try
                {
                    input.Write(line + "\n");
                    input.Flush();
                }
                catch (IOException)
                {
                    cancel.Cancel(); // the command was killed: stop the build
                }
                catch (ObjectDisposedException)
                {
                    cancel.Cancel();
                }
            }
        }

        _ = Task.Run(async () =>
        {
            int exit = 1;
            try
            {
                var built = await new DockerfileBuilder(_boxes).BuildAsync(box, running, request, Log, cancel.Token).ConfigureAwait(false);
                _built[request.Tag] = (box.Id, built.Id);
                if (box.Deleted)
                {
                    Forget(box); // the builder went away during the build: nobody can capture the result
                }

                exit = 0;
            }
            catch (DockerfileBuildException e)
            {
                Log("ERROR: " + e.Message);
            }
            catch (OperationCanceledException)
            {
                Log("ERROR: the build was cancelled");
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log($"ERROR: the build failed: {e.GetType().Name}: {e.Message}");
                BuildFailed(_logger, box.Id, e);
            }

            try
            {
                await File.WriteAllTextAsync(exitFile, exit.ToString(CultureInfo.InvariantCulture) + "\n", CancellationToken.None).ConfigureAwait(false);
                lock (gate)
                {
                    input.Close();
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // the relay is gone already
            }

            cancel.Dispose();
        }, CancellationToken.None);
        return session;
    }

    /// <summary>Capture with <c>docker_image</c>: the snapshot a build in <paramref name="builder"/> made under that tag; null when none did.</summary>
    public SnapshotRecord? FindBuilt(Box builder, string tag) =>
        _built.TryGetValue(tag, out var built) && built.BuilderId == builder.Id ? _boxes.Snapshots.Find(built.SnapshotId) : null;

    /// <summary>
    /// Gives <paramref name="record"/> (<see cref="FindBuilt"/> of <paramref name="tag"/>) its final <paramref name="name"/>
    /// and the capture call's settings; a build nobody adopts is removed with its builder.
    /// </summary>
    public void Adopt(SnapshotRecord record, string tag, string name, long? fsCapacityBytes, RunConfig? runConfig)
    {
        _boxes.Snapshots.Rename(record, name);
        _built.TryRemove(tag, out _);
        if (fsCapacityBytes is { } capacity)
        {
            record.FsCapacityBytes = capacity;
        }

        record.RunConfig = RunConfigs.Layer(record.RunConfig, runConfig);
        record.DockerImage = tag;
        _boxes.Snapshots.Save(record);
    }

    /// <summary>Removes what builds in <paramref name="builder"/> made and nobody captured (the builder sandbox is being deleted).</summary>
    public void Forget(Box builder)
    {
        foreach (var (tag, built) in _built)
        {
            if (built.BuilderId == builder.Id && _built.TryRemove(tag, out _))
            {
                try
                {
                    _boxes.Snapshots.Delete(built.SnapshotId, _boxes.IsSnapshotInUse);
                }
                catch (DomainException)
                {
                    // in use: it stays
                }
            }
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Dockerfile build in sandbox {BoxId} failed")]
    private static partial void BuildFailed(ILogger logger, string boxId, Exception exception);
}
