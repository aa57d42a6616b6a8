using System.Diagnostics;
using System.Globalization;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Commands;

/// <summary>
/// Starts a command inside a running box. Normally through the box's command spawner (<see cref="BoxCommandSpawner"/>):
/// one fork + exec of the shell, already in the box's namespaces, cgroups and restrictions. Where the box has no
/// spawner (it could not start, or it went away) the command starts the older way: sandbox-box-exec (the server's small nsenter) enters the box's mount, uts, ipc,
/// net, pid, cgroup and user namespaces and, before exec, drops to the box's capabilities, sets no_new_privs and installs
/// the box's seccomp filter (a process entering a user namespace would otherwise have every capability in it), where
/// an in-box prelude reports the command's pid as seen in the box and waits; the server moves that process into the
/// box's cgroups (and a per-command group) and lets it go on, and the prelude changes directory and execs the shell.
/// No host-side shell runs per command (one exec less), and no value is interpolated into any script text.
/// </summary>
internal sealed class CommandLauncher
{
    // `read` takes exactly one line (a shell reads a pipe byte by byte), so the command's own stdin is untouched.
    private const string BoxPrelude = "echo $$; read -r go || exit 125; cd -- \"$1\" || exit 1; shift; exec \"$@\"";
    private static readonly byte[] Go = "\n"u8.ToArray();

    private readonly HostCapabilities _host;
    private readonly TimeProvider _time;
    private readonly int _bufferBytes;

    public CommandLauncher(HostCapabilities host, TimeProvider time, int bufferBytes)
    {
        _host = host;
        _time = time;
        _bufferBytes = bufferBytes;
    }

    public async Task<CommandSession> StartAsync(RunningBox box, CommandSpec spec, Action<CommandSession> onFinished, CancellationToken cancellationToken)
    {
        if (spec.Pty && _host.ScriptPath is null)
        {
            throw new CommandStartException("pty is not available: the 'script' tool (util-linux) is not installed on the server host.");
        }

        CommandCgroup? cgroup = box.Cgroup?.RentCommandGroup();
        if (box.Spawner is { IsAlive: true } spawner)
        {
            try
            {
                return await StartSpawnedAsync(box, spawner, spec, cgroup, onFinished, cancellationToken).ConfigureAwait(false);
            }
            catch (SpawnerLostException)
            {
                // Started the older way below.
            }
            catch
            {
                cgroup?.Remove();
                throw;
            }
        }

        var psi = new ProcessStartInfo(_host.BoxExecPath!)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment.Clear();
        foreach (var (key, value) in spec.Environment)
        {
            psi.Environment[key] = value;
        }

        if (spec.Pty)
        {
            psi.Environment["SHELL"] = spec.Shell;
        }

        int uid = spec.Uid ?? 0;
        Add(psi, box.InitPid.ToString(CultureInfo.InvariantCulture), uid.ToString(CultureInfo.InvariantCulture),
            (spec.Gid ?? uid).ToString(CultureInfo.InvariantCulture), BoxCapabilities.Mask.ToString("x", CultureInfo.InvariantCulture),
            box.SeccompFilter ?? "-");
        Add(psi, "--", "/bin/sh", "-c", BoxPrelude, "box-exec", spec.WorkingDirectory);
        if (spec.Pty)
        {
            Add(psi, "script", "-qefc", spec.Command, "/dev/null");
        }
        else
        {
            Add(psi, spec.Shell, "-c", spec.Command);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new CommandStartException("The command could not be started.");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception)
        {
            cgroup?.Remove();
            throw new CommandStartException("The command could not be started: " + e.Message, e);
        }

        try
        {
            var (pid, rest) = await ReadPidHeaderAsync(process, cancellationToken).ConfigureAwait(false);
            if (pid is null)
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                string stderr = await process.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                throw new CommandStartException("The command could not be started inside the sandbox: " + stderr.Trim());
            }

            JoinCgroups(process.Id, cgroup);
            var stdin = process.StandardInput.BaseStream;
            await stdin.WriteAsync(Go, cancellationToken).ConfigureAwait(false);
            await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);

            CommandSession? created = null;
            created = new CommandSession(spec, new HostCommandProcess(process), pid.Value, cgroup, box.Cgroup is { } bc ? bc.Return : null, _bufferBytes, _time, onFinished,
                s => box.Commands.Expire(s));
            created.Start(rest);
            return created;
        }
        catch
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }

            process.Dispose();
            cgroup?.Remove();
            throw;
        }
    }

    private async Task<CommandSession> StartSpawnedAsync(RunningBox box, BoxCommandSpawner spawner, CommandSpec spec, CommandCgroup? cgroup,
        Action<CommandSession> onFinished, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> argv = spec.Pty ? ["script", "-qefc", spec.Command, "/dev/null"] : [spec.Shell, "-c", spec.Command];
        IReadOnlyDictionary<string, string> environment = spec.Environment;
        if (spec.Pty)
        {
            environment = new Dictionary<string, string>(spec.Environment, StringComparer.Ordinal) { ["SHELL"] = spec.Shell };
        }

        int uid = spec.Uid ?? 0;
        var (process, boxPid) = await spawner.SpawnAsync(argv, environment, spec.WorkingDirectory, uid, spec.Gid ?? uid, cgroup, cancellationToken)
            .ConfigureAwait(false);
        var session = new CommandSession(spec, process, boxPid, cgroup, box.Cgroup is { } bc ? bc.Return : null, _bufferBytes, _time, onFinished,
            s => box.Commands.Expire(s));
        session.Start(ReadOnlyMemory<byte>.Empty);
        return session;
    }

    /// <summary>
    /// Starts a command the server serves itself (a Dockerfile build) as a host process whose stdout is the command's
    /// output: it gets the session machinery (buffers, reattach, deadline, kill) of any command, but no box cgroup.
    /// </summary>
    public CommandSession StartHostProcess(RunningBox box, CommandSpec spec, ProcessStartInfo psi, out Process process, Action<CommandSession> onFinished)
    {
        try
        {
            process = Process.Start(psi) ?? throw new CommandStartException("The command could not be started.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CommandStartException("The command could not be started: " + e.Message, e);
        }

        var session = new CommandSession(spec, new HostCommandProcess(process), process.Id, null, null, _bufferBytes, _time, onFinished, s => box.Commands.Expire(s));
        session.Start(ReadOnlyMemory<byte>.Empty);
        return session;
    }

    /// <summary>
    /// Moves the in-box prelude (nsenter's only child, waiting for its go line) into the command's cgroups before it
    /// execs the command, so everything the command starts is accounted, limited and killable as one tree.
    /// </summary>
    private static void JoinCgroups(int nsenterPid, CommandCgroup? cgroup)
    {
        if (cgroup is null || cgroup.JoinFiles.Count == 0)
        {
            return;
        }

        string nsenter = nsenterPid.ToString(CultureInfo.InvariantCulture);
        string child;
        try
        {
            child = File.ReadAllText($"/proc/{nsenter}/task/{nsenter}/children").Trim();
        }
        catch (IOException e)
        {
            throw new CommandStartException("The command could not be started: its process went away before it joined the sandbox's cgroups.", e);
        }

        if (child.Length == 0 || child.Contains(' ', StringComparison.Ordinal) || !int.TryParse(child, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new CommandStartException("The command could not be started: its process could not be found to join the sandbox's cgroups.");
        }

        foreach (string join in cgroup.JoinFiles)
        {
            try
            {
                CgroupController.Write(join, child);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CommandStartException($"The command could not be started: joining the sandbox's cgroups failed ({e.Message}).", e);
            }
        }
    }

    private static async Task<(int? Pid, ReadOnlyMemory<byte> Extra)> ReadPidHeaderAsync(Process process, CancellationToken cancellationToken)
    {
        var stream = process.StandardOutput.BaseStream;
        byte[] buffer = new byte[4096];
        int filled = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            int newline = Array.IndexOf(buffer, (byte)'\n', 0, filled);
            if (newline >= 0)
            {
                string text = System.Text.Encoding.ASCII.GetString(buffer, 0, newline);
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid))
                {
                    return (null, ReadOnlyMemory<byte>.Empty);
                }

                return (pid, buffer.AsMemory(newline + 1, filled - newline - 1).ToArray());
            }

            if (filled >= 64)
            {
                return (null, ReadOnlyMemory<byte>.Empty);
            }

            int read = await stream.ReadAsync(buffer.AsMemory(filled), timeout.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return (null, ReadOnlyMemory<byte>.Empty);
            }

            filled += read;
        }
    }

    private static void Add(ProcessStartInfo psi, params string[] args)
    {
        foreach (string arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
    }
}
