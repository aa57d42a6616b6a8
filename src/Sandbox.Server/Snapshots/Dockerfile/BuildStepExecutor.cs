using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Server.Commands;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>
/// Executes the instructions of one Dockerfile build in its build sandbox: RUN as a command of the sandbox (its output
/// relayed to the build log), COPY/ADD from the build context, and ENV/ARG/WORKDIR/USER/SHELL/LABEL into the
/// <see cref="BuildState"/>; image metadata a sandbox does not use is logged and ignored.
/// </summary>
internal sealed class BuildStepExecutor
{
    private const int TailBytes = 2000;

    private readonly BoxManager _boxes;
    private readonly BuildContext _context;
    private readonly Box _box;
    private readonly RunningBox _running;
    private readonly Action<string> _log;

    public BuildStepExecutor(BoxManager boxes, BuildContext context, Box box, RunningBox running, Action<string> log)
    {
        _boxes = boxes;
        _context = context;
        _box = box;
        _running = running;
        _log = log;
    }

    /// <summary>Runs one instruction after FROM: RUN and COPY/ADD change the build sandbox, the others change <paramref name="state"/>.</summary>
    public async Task ExecuteAsync(DockerfileInstruction step, BuildState state, CancellationToken cancellationToken)
    {
        switch (step.Keyword)
        {
            case "RUN":
                var argv = step.Json is { } exec ? exec.ToList() : [.. state.Shell, step.Text];
                await RunAsync(argv, state, cancellationToken).ConfigureAwait(false);
                break;
            case "COPY" or "ADD":
                await CopyAsync(step, state, cancellationToken).ConfigureAwait(false);
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
                _running.Files.CreateDirectories(state.WorkDir);
                break;
            case "USER":
                string user = DockerfileParser.Expand(step.Text, state.Variables(), step.Line);
                _ = CommandSpecBuilder.ResolveUser(_running.Files, user); // the user must exist in the image
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
                _log($"  {step.Keyword} is image metadata a sandbox does not use (boxes run commands, not an entrypoint): ignored");
                break;
        }
    }

    /// <summary>Runs <paramref name="argv"/> in the build sandbox, relaying its output to the build log line by line; a non-zero exit throws <see cref="StepExitException"/> with the output's tail.</summary>
    private async Task RunAsync(IReadOnlyList<string> argv, BuildState state, CancellationToken cancellationToken)
    {
        string command = "exec " + string.Join(' ', argv.Select(Quote));
        var spec = CommandSpecBuilder.Build(_box, _running, _boxes, new CommandStartRequest
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
        var (session, _) = await _boxes.StartCommandAsync(_box, _running, spec, cancellationToken).ConfigureAwait(false);
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
                _log("  " + line);
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

    /// <summary>COPY/ADD from the build context into the build sandbox (ADD unpacks local archives).</summary>
    private async Task CopyAsync(DockerfileInstruction step, BuildState state, CancellationToken cancellationToken)
    {
        var variables = state.Variables();
        var words = DockerfileStages.Words(step).Select(w => DockerfileParser.Expand(w, variables, step.Line)).ToList();
        string destination = words[^1];
        var sources = words.SkipLast(1).SelectMany(s => _context.Sources(s, step)).ToList();
        bool toDirectory = destination.EndsWith('/') || sources.Count > 1;
        string workDir = state.WorkDir ?? "/";
        destination = Normalize(destination.StartsWith('/') ? destination : workDir.TrimEnd('/') + "/" + destination);
        (int, int)? owner = null;
        if (step.Flags.TryGetValue("chown", out string? chown))
        {
            var (uid, gid, _, _) = CommandSpecBuilder.ResolveUser(_running.Files, DockerfileParser.Expand(chown, variables, step.Line));
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
            if (step.Keyword == "ADD" && _context.LooksLikeArchive(path))
            {
                await ExtractArchiveAsync(path, destination, state, cancellationToken).ConfigureAwait(false);
                copied++;
                continue;
            }

            copied += _context.Copy(path, _running.Files, destination, toDirectory, name, owner, mode, cancellationToken);
        }

        _log(string.Create(CultureInfo.InvariantCulture, $"  {copied} entries → {destination}"));
    }

    /// <summary>ADD of a local tar archive (plain, gzip, bzip2, xz): copied into the build sandbox and unpacked there by its own tar.</summary>
    private async Task ExtractArchiveAsync(string path, string destination, BuildState state, CancellationToken cancellationToken)
    {
        string temporary = "/tmp/.dockerfile-add-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        _context.Copy(path, _running.Files, temporary, destinationIsDirectory: false, "archive", null, 0x180 /* 0600 */, cancellationToken);
        _log($"  unpacking the archive into {destination}");
        var root = new BuildState(null, new Dictionary<string, string>(), new Dictionary<string, string>()) { WorkDir = "/" };
        foreach (var (k, v) in state.Env)
        {
            root.Env[k] = v;
        }

        await RunAsync(["/bin/sh", "-c", "mkdir -p -- \"$1\" && tar -xf \"$0\" -C \"$1\"; status=$?; rm -f -- \"$0\"; exit $status", temporary, destination],
            root, cancellationToken).ConfigureAwait(false);
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
}
