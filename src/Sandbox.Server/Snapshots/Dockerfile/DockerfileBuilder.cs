using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Protocol;
using Sandbox.Server.Commands;
using Sandbox.Server.Errors;
using Sandbox.Server.Files;
using Sandbox.Server.Runtime;
using Sandbox.Server.Snapshots.Registry;

namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>
/// Builds a Dockerfile into a snapshot on this server, without BuildKit: FROM resolves to a snapshot of this server or to an
/// image pulled from a registry (<see cref="ImagePuller"/>); every RUN runs in a build sandbox created from it, with the
/// builder sandbox's limits and the same isolation as any sandbox (unprivileged ids, capability set, seccomp, cgroups),
/// and with the builder's <c>proxy_config</c> as its only egress (none by default); COPY/ADD copy from the uploaded
/// context (<see cref="BuildContext"/>); ENV, WORKDIR, USER (and ARG, SHELL, LABEL) are tracked and recorded in the
/// snapshot's run config; the build sandbox's writable layer is then captured as the snapshot. A failure names its step
/// and removes the build sandbox (and a base image pulled only for this build), so nothing half-made is left.
/// </summary>
internal sealed class DockerfileBuilder
{
    private const int TailBytes = 2000;

    private readonly BoxManager _boxes;

    public DockerfileBuilder(BoxManager boxes) => _boxes = boxes;

    /// <summary>Builds <paramref name="request"/> from <paramref name="builder"/>'s context; returns the captured snapshot (named after the tag).</summary>
    public async Task<SnapshotRecord> BuildAsync(Box builder, RunningBox builderRunning, BuildScriptRequest request, Action<string> log, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        string text = BuildContext.ReadText(builderRunning.Files, request.DockerfilePath);
        var all = DockerfileParser.Parse(text);
        var (globalArgs, stage) = SelectStage(all, request.Target);
        foreach (var instruction in stage)
        {
            Validate(instruction);
        }

        var context = new BuildContext(builderRunning.Files, request.ContextDirectory);
        log($"Dockerfile build by the sandbox server (no BuildKit): {request.DockerfilePath}, context {request.ContextDirectory}, {stage.Count} steps");

        // Variables before FROM: global ARGs, overridden by build args.
        var global = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var arg in globalArgs)
        {
            foreach (var (key, value) in DockerfileParser.ParsePairs(arg.Text, false, arg.Line, "ARG"))
            {
                if (request.BuildArgs.TryGetValue(key, out string? given))
                {
                    global[key] = given;
                }
                else if (value is not null)
                {
                    global[key] = DockerfileParser.Expand(value, global, arg.Line);
                }
            }
        }

        var from = stage[0];
        string fromText = from.Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0];
        string imageName = DockerfileParser.Expand(fromText, global, from.Line);
        log($"step 1/{stage.Count} {from.Display}");
        var (baseSnapshot, pulledNow) = await ResolveBaseAsync(imageName, from, log, cancellationToken).ConfigureAwait(false);

        Box? buildBox = null;
        SnapshotRecord? result = null;
        try
        {
            buildBox = await _boxes.CreateAsync(new BoxCreateParameters
            {
                Name = "dockerfile-build-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
                Snapshot = baseSnapshot.Id,
                Vcpus = builder.Record.Vcpus,
                MemBytes = builder.Record.MemBytes,
                FsCapacityBytes = builder.Record.FsCapacityBytes,
                ProxyConfig = builder.Record.ProxyConfig,
                Labels = new Dictionary<string, string> { ["sandbox.dockerfile-build-for"] = builder.Name },
                WaitForReady = true,
                Persistent = true,
            }, cancellationToken).ConfigureAwait(false);
            var running = await _boxes.EnsureRunningAsync(buildBox, cancellationToken).ConfigureAwait(false);
            var state = new BuildState(baseSnapshot.RunConfig, global, request.BuildArgs);
            for (int i = 1; i < stage.Count; i++)
            {
                var step = stage[i];
                string name = $"step {i + 1}/{stage.Count} {step.Display}";
                log(name);
                try
                {
                    await ExecuteAsync(step, state, context, buildBox, running, log, cancellationToken).ConfigureAwait(false);
                }
                catch (DockerfileBuildException e) when (e.Error != DockerfileBuildError.StepFailed)
                {
                    throw new DockerfileBuildException(e.Error, $"{name} failed: {e.Message}", e);
                }
                catch (StepExitException e)
                {
                    throw new DockerfileBuildException(DockerfileBuildError.StepFailed, $"{name} failed with exit {e.ExitCode}: {e.Tail}");
                }
                catch (Exception e) when (e is BoxFileException or IOException or DomainException)
                {
                    throw new DockerfileBuildException(DockerfileBuildError.StepFailed, $"{name} failed: {e.Message}", e);
                }
            }

            log($"capturing the build sandbox as {request.Tag}");
            result = await _boxes.Snapshots.CaptureAsync(baseSnapshot, buildBox.Id, _boxes.UpperLayersPath(buildBox, running), request.Tag,
                builder.Record.FsCapacityBytes, state.RunConfig(), cancellationToken, _boxes.UnshiftCapturedLayer).ConfigureAwait(false);
            if (result.Status != SnapshotStatus.Ready)
            {
                throw new DockerfileBuildException(DockerfileBuildError.Internal, result.StatusMessage ?? "the capture failed");
            }

            if (state.Labels.Count > 0)
            {
                result.Labels = new Dictionary<string, string>(state.Labels, StringComparer.Ordinal);
                _boxes.Snapshots.Save(result);
            }

            log(string.Create(CultureInfo.InvariantCulture, $"built {request.Tag} in {watch.Elapsed.TotalSeconds:0.0} s (env {state.Env.Count} variables, workdir {state.WorkDir ?? "(default)"}, user {state.User ?? "root"})"));
            return result;
        }
        catch
        {
            if (result is not null)
            {
                TryDeleteSnapshot(result.Id);
            }

            if (pulledNow && buildBox is not null)
            {
                await DeleteBoxAsync(buildBox).ConfigureAwait(false);
                buildBox = null;
                TryDeleteSnapshot(baseSnapshot.Id);
            }
            else if (pulledNow)
            {
                TryDeleteSnapshot(baseSnapshot.Id);
            }

            throw;
        }
        finally
        {
            if (buildBox is not null)
            {
                await DeleteBoxAsync(buildBox).ConfigureAwait(false);
            }
        }
    }

    private async Task DeleteBoxAsync(Box box)
    {
        try
        {
            await _boxes.DeleteAsync(box, CancellationToken.None).ConfigureAwait(false);
        }
        catch (DomainException)
        {
            // already gone
        }
    }

    private void TryDeleteSnapshot(string id)
    {
        try
        {
            _boxes.Snapshots.Delete(id, _boxes.IsSnapshotInUse);
        }
        catch (DomainException)
        {
            // in use by something else now: it stays
        }
    }

    private static (List<DockerfileInstruction> GlobalArgs, List<DockerfileInstruction> Stage) SelectStage(IReadOnlyList<DockerfileInstruction> all, string? target)
    {
        var globalArgs = new List<DockerfileInstruction>();
        int i = 0;
        for (; i < all.Count && all[i].Keyword == "ARG"; i++)
        {
            globalArgs.Add(all[i]);
        }

        if (i >= all.Count || all[i].Keyword != "FROM")
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, all.Count == i
                ? "The Dockerfile has no FROM instruction"
                : $"line {all[i].Line}: the Dockerfile must start with FROM (only ARG may come before it), not {all[i].Keyword}");
        }

        var stage = new List<DockerfileInstruction> { all[i] };
        string[] fromWords = all[i].Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        string? stageName = fromWords.Length == 3 && fromWords[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? fromWords[2] : null;
        if (fromWords.Length is not (1 or 3) || (fromWords.Length == 3 && stageName is null))
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {all[i].Line}: FROM expects 'image' or 'image AS name'");
        }

        for (i++; i < all.Count; i++)
        {
            if (all[i].Keyword == "FROM")
            {
                if (target is not null && target == stageName)
                {
                    break;
                }

                throw new DockerfileBuildException(DockerfileBuildError.Unsupported,
                    $"line {all[i].Line}: multi-stage builds are not supported by the sandbox server ({all[i].Display} starts a second stage); build one stage, or pass the first stage as the target");
            }

            stage.Add(all[i]);
        }

        if (target is not null && target != stageName)
        {
            throw new DockerfileBuildException(DockerfileBuildError.NotFound, $"The build target '{target}' is not a stage of the Dockerfile");
        }

        return (globalArgs, stage);
    }

    private static void Validate(DockerfileInstruction instruction)
    {
        string[] allowed = instruction.Keyword switch
        {
            "COPY" or "ADD" => ["chown", "chmod"],
            "FROM" => ["platform"],
            _ => [],
        };
        foreach (string flag in instruction.Flags.Keys)
        {
            if (!allowed.Contains(flag))
            {
                string why = (instruction.Keyword, flag) switch
                {
                    ("COPY", "from") => "copying from another stage or image (multi-stage) is not supported",
                    ("RUN", "network") => "the build sandbox's network follows the builder sandbox's proxy_config",
                    _ => "not supported by the sandbox server",
                };
                throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {instruction.Line}: {instruction.Keyword} --{flag}: {why}");
            }
        }

        if (instruction.Flags.TryGetValue("platform", out string? platform) && platform is not ("linux/amd64" or "$BUILDPLATFORM" or "$TARGETPLATFORM" or "${BUILDPLATFORM}" or "${TARGETPLATFORM}"))
        {
            throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {instruction.Line}: FROM --platform={platform}: only linux/amd64 is built");
        }

        switch (instruction.Keyword)
        {
            case "ONBUILD":
                throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {instruction.Line}: ONBUILD is not supported by the sandbox server");
            case "ADD" when Words(instruction).SkipLast(1).FirstOrDefault(w => w.Contains("://", StringComparison.Ordinal) || w.StartsWith("git@", StringComparison.Ordinal)) is { } url:
                throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {instruction.Line}: ADD from a URL ('{url}') is not supported: download it in a RUN step (the build sandbox's egress is the builder's proxy_config)");
            case "COPY" or "ADD" when Words(instruction).Count < 2:
                throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {instruction.Line}: {instruction.Keyword} needs at least one source and a destination");
        }
    }

    private static List<string> Words(DockerfileInstruction instruction) =>
        instruction.Json is { } json ? [.. json] : [.. instruction.Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)];

    private async Task<(SnapshotRecord Snapshot, bool PulledNow)> ResolveBaseAsync(string image, DockerfileInstruction from, Action<string> log, CancellationToken cancellationToken)
    {
        if (image == "scratch")
        {
            throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {from.Line}: FROM scratch is not supported (RUN steps need a shell in the image); start from an image or a snapshot");
        }

        var snapshots = _boxes.Snapshots;
        if (snapshots.Find(image) is { Status: SnapshotStatus.Ready } local)
        {
            log($"  base: snapshot '{local.Name}' ({local.Id})");
            return (local, false);
        }

        if (!ImageReference.TryParse(image, out var reference, out string? error))
        {
            throw new DockerfileBuildException(DockerfileBuildError.BaseImage, $"line {from.Line}: '{image}' is neither a snapshot of this server nor an image reference: {error}");
        }

        if (snapshots.List().FirstOrDefault(s => s.Status == SnapshotStatus.Ready && s.DockerImage == image && s.Layers.Count == 0) is { } pulled)
        {
            log($"  base: {image}, pulled before as snapshot '{pulled.Name}'");
            return (pulled, false);
        }

        var registry = snapshots.Registries.List().FirstOrDefault(r => r.Host == reference!.Registry);
        string name = "image-" + new string([.. image.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '-')]);
        if (snapshots.Find(name) is not null)
        {
            name += "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        }

        log($"  base: pulling {image}{(registry is null ? "" : $" with the credentials of registry '{registry.Name}'")} into snapshot '{name}'");
        SnapshotRecord record;
        try
        {
            record = snapshots.CreateFromImage(new CreateSnapshotRequest { Name = name, DockerImage = image, RegistryId = registry?.Id });
        }
        catch (DomainException e)
        {
            throw new DockerfileBuildException(DockerfileBuildError.BaseImage, $"line {from.Line}: FROM {image}: {e.Message}", e);
        }

        string? last = null;
        while (record.Status == SnapshotStatus.Building)
        {
            if (record.StatusMessage is { } message && message != last)
            {
                log("  " + message);
                last = message;
            }

            try
            {
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the pull runs on; its snapshot is removed once it ends
                _ = Task.Run(async () =>
                {
                    while (record.Status == SnapshotStatus.Building)
                    {
                        await Task.Delay(1000, CancellationToken.None).ConfigureAwait(false);
                    }

                    TryDeleteSnapshot(record.Id);
                }, CancellationToken.None);
                throw;
            }
        }

        if (record.Status != SnapshotStatus.Ready)
        {
            string message = record.StatusMessage ?? "the pull failed";
            TryDeleteSnapshot(record.Id);
            throw new DockerfileBuildException(DockerfileBuildError.BaseImage, $"line {from.Line}: FROM {image}: {message}");
        }

        return (record, true);
    }

    private async Task ExecuteAsync(DockerfileInstruction step, BuildState state, BuildContext context, Box box, RunningBox running, Action<string> log, CancellationToken cancellationToken)
    {
        switch (step.Keyword)
        {
            case "RUN":
                var argv = step.Json is { } exec ? exec.ToList() : [.. state.Shell, step.Text];
                await RunAsync(argv, state, box, running, log, cancellationToken).ConfigureAwait(false);
                break;
            case "COPY" or "ADD":
                await CopyAsync(step, state, context, box, running, log, cancellationToken).ConfigureAwait(false);
                break;
            case "ENV":
                foreach (var (key, value) in DockerfileParser.ParsePairs(step.Text, true, step.Line, "ENV"))
                {
                    state.Env[key] = DockerfileParser.Expand(value ?? "", state.Variables(), step.Line);
                }

                break;
            case "ARG":
                foreach (var (key, value) in DockerfileParser.ParsePairs(step.Text, false, step.Line, "ARG"))
                {
                    if (state.BuildArgs.TryGetValue(key, out string? given))
                    {
                        state.Args[key] = given;
                    }
                    else if (value is not null)
                    {
                        state.Args[key] = DockerfileParser.Expand(value, state.Variables(), step.Line);
                    }
                    else if (state.GlobalArgs.TryGetValue(key, out string? inherited))
                    {
                        state.Args[key] = inherited;
                    }
                }

                break;
            case "WORKDIR":
                string dir = DockerfileParser.Expand(step.Text, state.Variables(), step.Line);
                dir = dir.StartsWith('/') ? dir : (state.WorkDir ?? "/").TrimEnd('/') + "/" + dir;
                state.WorkDir = Normalize(dir);
                running.Files.CreateDirectories(state.WorkDir);
                break;
            case "USER":
                string user = DockerfileParser.Expand(step.Text, state.Variables(), step.Line);
                _ = CommandSpecBuilder.ResolveUser(running.Files, user); // the user must exist in the image
                state.User = user;
                break;
            case "SHELL":
                state.Shell = [.. step.Json!];
                break;
            case "LABEL":
                foreach (var (key, value) in DockerfileParser.ParsePairs(step.Text, false, step.Line, "LABEL"))
                {
                    state.Labels[key] = DockerfileParser.Expand(value ?? "", state.Variables(), step.Line);
                }

                break;
            default: // CMD, ENTRYPOINT, EXPOSE, VOLUME, STOPSIGNAL, HEALTHCHECK, MAINTAINER
                log($"  {step.Keyword} is image metadata a sandbox does not use (boxes run commands, not an entrypoint): ignored");
                break;
        }
    }

    private async Task RunAsync(IReadOnlyList<string> argv, BuildState state, Box box, RunningBox running, Action<string> log, CancellationToken cancellationToken)
    {
        string command = "exec " + string.Join(' ', argv.Select(Quote));
        var spec = CommandSpecBuilder.Build(box, running, _boxes, new CommandStartRequest
        {
            CommandId = Guid.CreateVersion7().ToString("N"),
            Command = command,
            Shell = "/bin/sh",
            RunConfig = state.CommandRunConfig(),
            CloseStdin = true,
            TimeoutSeconds = 0,
            IdleTimeoutSeconds = -1,
            TtlSeconds = 0,
        });
        var (session, _) = await _boxes.StartCommandAsync(box, running, spec, cancellationToken).ConfigureAwait(false);
        var tail = new StringBuilder();
        long stdout = 0, stderr = 0;
        var pending = new StringBuilder();
        byte[] buffer = new byte[64 * 1024];

        void Drain(OutputBuffer output, ref long offset)
        {
            while (true)
            {
                int count = output.Read(offset, buffer, out long actual, out _);
                if (count <= 0)
                {
                    return;
                }

                offset = actual + count;
                string chunk = Encoding.UTF8.GetString(buffer, 0, count);
                pending.Append(chunk);
                tail.Append(chunk);
                if (tail.Length > TailBytes * 2)
                {
                    tail.Remove(0, tail.Length - TailBytes);
                }
            }
        }

        void Flush(bool all)
        {
            string text = pending.ToString();
            int end = all ? text.Length : text.LastIndexOf('\n') + 1;
            if (end <= 0)
            {
                return;
            }

            foreach (string line in text[..end].TrimEnd('\n').Split('\n'))
            {
                log("  " + line);
            }

            pending.Remove(0, end);
        }

        try
        {
            while (true)
            {
                var changed = session.Changed;
                bool finished = session.IsFinished;
                Drain(session.Stdout, ref stdout);
                Drain(session.Stderr, ref stderr);
                Flush(all: false);
                if (finished)
                {
                    break;
                }

                await Task.WhenAny(changed, Task.Delay(1000, cancellationToken)).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException)
        {
            session.Kill();
            throw;
        }

        Flush(all: true);
        int exit = session.ExitCode ?? -1;
        if (exit != 0)
        {
            string text = tail.ToString().TrimEnd();
            if (text.Length > TailBytes)
            {
                text = "…" + text[^TailBytes..];
            }

            throw new StepExitException(exit, text.Length == 0 ? "(no output)" : text);
        }
    }

    private async Task CopyAsync(DockerfileInstruction step, BuildState state, BuildContext context, Box box, RunningBox running, Action<string> log, CancellationToken cancellationToken)
    {
        var variables = state.Variables();
        var words = Words(step).Select(w => DockerfileParser.Expand(w, variables, step.Line)).ToList();
        string destination = words[^1];
        var sources = words.SkipLast(1).SelectMany(s => context.Sources(s, step)).ToList();
        bool toDirectory = destination.EndsWith('/') || sources.Count > 1;
        string workDir = state.WorkDir ?? "/";
        destination = Normalize(destination.StartsWith('/') ? destination : workDir.TrimEnd('/') + "/" + destination);
        (int, int)? owner = null;
        if (step.Flags.TryGetValue("chown", out string? chown))
        {
            var (uid, gid, _, _) = CommandSpecBuilder.ResolveUser(running.Files, DockerfileParser.Expand(chown, variables, step.Line));
            owner = (uid ?? 0, gid ?? 0);
        }

        uint? mode = null;
        if (step.Flags.TryGetValue("chmod", out string? chmod))
        {
            if (!uint.TryParse(chmod, NumberStyles.None, CultureInfo.InvariantCulture, out _) || chmod.Any(c => c > '7'))
            {
                throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {step.Line}: --chmod={chmod}: only octal modes are supported");
            }

            mode = Convert.ToUInt32(chmod, 8);
        }

        long copied = 0;
        foreach (var (path, name) in sources)
        {
            if (step.Keyword == "ADD" && context.LooksLikeArchive(path))
            {
                await ExtractArchiveAsync(context, path, destination, state, box, running, log, cancellationToken).ConfigureAwait(false);
                copied++;
                continue;
            }

            copied += context.Copy(path, running.Files, destination, toDirectory, name, owner, mode, cancellationToken);
        }

        log(string.Create(CultureInfo.InvariantCulture, $"  {copied} entries → {destination}"));
    }

    /// <summary>ADD of a local tar archive (plain, gzip, bzip2, xz): copied into the build sandbox and unpacked there by its own tar.</summary>
    private async Task ExtractArchiveAsync(BuildContext context, string path, string destination, BuildState state, Box box, RunningBox running, Action<string> log, CancellationToken cancellationToken)
    {
        string temporary = "/tmp/.dockerfile-add-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        context.Copy(path, running.Files, temporary, destinationIsDirectory: false, "archive", null, 0x180 /* 0600 */, cancellationToken);
        log($"  unpacking the archive into {destination}");
        var root = new BuildState(null, new Dictionary<string, string>(), new Dictionary<string, string>()) { WorkDir = "/" };
        foreach (var (k, v) in state.Env)
        {
            root.Env[k] = v;
        }

        await RunAsync(["/bin/sh", "-c", "mkdir -p -- \"$1\" && tar -xf \"$0\" -C \"$1\"; status=$?; rm -f -- \"$0\"; exit $status", temporary, destination],
            root, box, running, log, cancellationToken).ConfigureAwait(false);
    }

    private static string Normalize(string path)
    {
        var parts = new List<string>();
        foreach (string part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }
            }
            else if (part != ".")
            {
                parts.Add(part);
            }
        }

        return "/" + string.Join('/', parts);
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\"'\"'", StringComparison.Ordinal) + "'";

    /// <summary>A RUN step's non-zero exit.</summary>
    private sealed class StepExitException(int exitCode, string tail) : Exception($"exit {exitCode}")
    {
        public int ExitCode { get; } = exitCode;

        public string Tail { get; } = tail;
    }

    /// <summary>What the instructions so far have set.</summary>
    private sealed class BuildState
    {
        public BuildState(RunConfig? image, IReadOnlyDictionary<string, string> globalArgs, IReadOnlyDictionary<string, string> buildArgs)
        {
            Env = new Dictionary<string, string>(image?.EnvVars ?? new Dictionary<string, string>(), StringComparer.Ordinal);
            WorkDir = image?.WorkDir;
            User = image?.User;
            GlobalArgs = globalArgs;
            BuildArgs = buildArgs;
        }

        public Dictionary<string, string> Env { get; }

        public Dictionary<string, string> Args { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, string> GlobalArgs { get; }

        public IReadOnlyDictionary<string, string> BuildArgs { get; }

        public string? WorkDir { get; set; }

        public string? User { get; set; }

        public List<string> Shell { get; set; } = ["/bin/sh", "-c"];

        /// <summary>What <c>$VAR</c> sees: the stage's ARGs, then ENV (ENV wins, as in BuildKit).</summary>
        public Dictionary<string, string> Variables()
        {
            var all = new Dictionary<string, string>(Args, StringComparer.Ordinal);
            foreach (var (k, v) in Env)
            {
                all[k] = v;
            }

            return all;
        }

        /// <summary>A RUN step's run config: ARGs are in its environment too, and it runs in <c>/</c> without WORKDIR.</summary>
        public RunConfig CommandRunConfig() => new()
        {
            User = User ?? "0",
            WorkDir = WorkDir ?? "/",
            EnvVars = Variables(),
        };

        /// <summary>The snapshot's run config: ENV, WORKDIR and USER (ARGs are build-time only).</summary>
        public RunConfig RunConfig() => new()
        {
            User = User,
            WorkDir = WorkDir,
            EnvVars = Env.Count == 0 ? null : new Dictionary<string, string>(Env, StringComparer.Ordinal),
        };
    }
}
