using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Files;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Commands;

/// <summary>
/// The server's side of one box's command spawner: a long-lived <c>sandbox-box-exec --serve</c> that entered the box
/// once (as the box's root, with the box's capabilities, no_new_privs and seccomp filter, outside the box's pid
/// namespace) and starts each command with one fork + exec. Requests go over a SOCK_SEQPACKET pair with the command's
/// pipes and cgroup files attached (<see cref="SpawnerWire"/>); one asynchronous reader per box takes the replies.
/// </summary>
/// <remarks>Thread-safe. When the spawner goes away, pending starts fail with <see cref="SpawnerLostException"/>
/// and its running commands are killed and end with exit code -1; nothing waits for it.</remarks>
internal sealed class BoxCommandSpawner : IAsyncDisposable
{
    private const int SoSndBufForce = 32;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly Socket _channel;
    private readonly ILogger _logger;
    private readonly string _boxId;
    private readonly ConcurrentDictionary<uint, Entry> _commands = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private uint _nextId;
    private volatile bool _lost;
    private Task _reader = Task.CompletedTask;

    private BoxCommandSpawner(Process process, Socket channel, ILogger logger, string boxId)
    {
        _process = process;
        _channel = channel;
        _logger = logger;
        _boxId = boxId;
    }

    /// <summary>The spawner's pid on the host.</summary>
    public int HostPid => _process.Id;

    /// <summary>False once the channel to the spawner is gone.</summary>
    public bool IsAlive => !_lost;

    /// <summary>Starts the spawner of the box whose init is <paramref name="initPid"/> and waits until it serves.</summary>
    /// <exception cref="CommandStartException">The spawner could not be started.</exception>
    public static async Task<BoxCommandSpawner> StartAsync(string helperPath, int initPid, string? seccompFilter, ILogger logger, string boxId,
        CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(helperPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment.Clear();
        foreach (string arg in (string[])["--serve", initPid.ToString(CultureInfo.InvariantCulture),
            BoxCapabilities.Mask.ToString("x", CultureInfo.InvariantCulture), seccompFilter ?? "-"])
        {
            psi.ArgumentList.Add(arg);
        }

        // From the server's long-lived spawner thread: the helper's PR_SET_PDEATHSIG then means "dies with the server".
        var process = await BoxProcessSpawner.Shared.StartAsync(psi).ConfigureAwait(false);
        Socket? channel = null;
        try
        {
            process.StandardInput.Close();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            string? line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out int remoteFd))
            {
                throw new CommandStartException("The command spawner did not start: " + await ReadErrorAsync(process).ConfigureAwait(false));
            }

            int fd = LibC.TakeDescriptor(process.Id, remoteFd);
            if (fd < 0)
            {
                throw new CommandStartException($"The command spawner's channel could not be taken (errno {Marshal.GetLastPInvokeError()}).");
            }

            channel = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            channel.SetRawSocketOption(1, SoSndBufForce, BitConverter.GetBytes(2 * SpawnerWire.MaxMessage));
            await channel.SendAsync(SpawnerWire.Hello(), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            byte[] buffer = new byte[512];
            int read = await channel.ReceiveAsync(buffer, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            if (!SpawnerWire.TryDecode(buffer.AsSpan(0, read), out var ready) || ready.Type != SpawnerWire.Ready)
            {
                throw new CommandStartException("The command spawner did not start: " + await ReadErrorAsync(process).ConfigureAwait(false));
            }

            var spawner = new BoxCommandSpawner(process, channel, logger, boxId);
            spawner._reader = spawner.ReadAsync();
            _ = spawner.LogErrorsAsync();
            return spawner;
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or InvalidOperationException)
        {
            Abort(process, channel);
            throw new CommandStartException("The command spawner did not start: " + e.Message, e);
        }
        catch
        {
            Abort(process, channel);
            throw;
        }
    }

    /// <summary>
    /// Starts <paramref name="argv"/> in the box: working directory, environment, user and group as given, stdin,
    /// stdout and stderr on new pipes, in <paramref name="cgroup"/> before its first instruction, in a new session.
    /// </summary>
    /// <exception cref="SpawnerLostException">The spawner is gone (the caller may start the command another way).</exception>
    /// <exception cref="CommandStartException">The command could not be started.</exception>
    public async Task<(ICommandProcess Process, int BoxPid)> SpawnAsync(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment,
        string workingDirectory, int uid, int gid, CommandCgroup? cgroup, CancellationToken cancellationToken)
    {
        var joinFiles = cgroup?.JoinFiles ?? [];
        if (_lost || joinFiles.Count > SpawnerWire.MaxCgroupFiles)
        {
            throw new SpawnerLostException();
        }

        uint id = Interlocked.Increment(ref _nextId);
        byte[] message = SpawnerWire.EncodeStart(id, uid, gid, joinFiles.Count, workingDirectory, argv, environment)
            ?? throw new SpawnerLostException(); // larger than the spawner takes: the caller starts it the old way
        var childFds = new List<int>();
        var ours = new List<Stream>();
        var entry = new Entry(cgroup);
        try
        {
            var (stdinRead, stdinWrite) = OpenPipe(childFds, readIsChild: true);
            var (stdoutRead, stdoutWrite) = OpenPipe(childFds, readIsChild: false);
            var (stderrRead, stderrWrite) = OpenPipe(childFds, readIsChild: false);
            ours.Add(new AnonymousPipeClientStream(PipeDirection.Out, new SafePipeHandle(stdinWrite, ownsHandle: true)));
            ours.Add(new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(stdoutRead, ownsHandle: true)));
            ours.Add(new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(stderrRead, ownsHandle: true)));
            int[] fds = [stdinRead, stdoutWrite, stderrWrite, .. joinFiles.Select(OpenCgroupFile)];
            childFds.AddRange(fds.Skip(3));
            _commands[id] = entry;
            await SendAsync(message, fds, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _commands.TryRemove(id, out _);
            ours.ForEach(s => s.Dispose());
            throw;
        }
        finally
        {
            childFds.ForEach(fd => LibC.Close(fd));
        }

        try
        {
            var (hostPid, boxPid) = await entry.Started.Task.WaitAsync(StartTimeout, cancellationToken).ConfigureAwait(false);
            var exited = entry.Exited.Task;
            return (new SpawnedCommandProcess(hostPid, ours[0], ours[1], ours[2], exited), boxPid);
        }
        catch (Exception e)
        {
            // Abandoned (cancelled, timed out) or failed: whatever was started is killed once it is known.
            _ = entry.Started.Task.ContinueWith(t => KillStarted(t, cgroup), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            ours.ForEach(s => s.Dispose());
            if (e is TimeoutException)
            {
                throw new CommandStartException("The command did not start within 30 s.", e);
            }

            throw;
        }
    }

    private static void KillStarted(Task<(int HostPid, int BoxPid)> started, CommandCgroup? cgroup)
    {
        if (cgroup is { CanKillTree: true })
        {
            cgroup.KillAll();
        }
        else
        {
            LibC.Kill(-started.Result.HostPid, 9);
        }
    }

    private static (int Read, int Write) OpenPipe(List<int> childFds, bool readIsChild)
    {
        var (read, write) = LibC.Pipe();
        if (read < 0)
        {
            throw new CommandStartException($"The command's pipes could not be created (errno {Marshal.GetLastPInvokeError()}).");
        }

        childFds.Add(readIsChild ? read : write);
        return (read, write);
    }

    private static int OpenCgroupFile(string path)
    {
        int fd = LibC.Open(path, LibC.O_WRONLY | LibC.O_CLOEXEC, 0);
        return fd >= 0 ? fd
            : throw new CommandStartException($"The command could not be started: the sandbox's cgroup could not be opened (errno {Marshal.GetLastPInvokeError()}).");
    }

    private async Task SendAsync(byte[] message, int[] fds, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                long sent = LibC.SendWithDescriptors(_channel.SafeHandle, message, fds);
                if (sent == message.Length)
                {
                    return;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (sent < 0 && errno == LibC.EAGAIN && attempt < 1000 && !_lost)
                {
                    // The spawner's queue is full (it is busy forking): wait until the socket is writable again.
                    await Task.Run(() => _channel.Poll(10_000, SelectMode.SelectWrite), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw new SpawnerLostException();
            }
        }
        catch (ObjectDisposedException e)
        {
            throw new SpawnerLostException(e);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadAsync()
    {
        byte[] buffer = new byte[512];
        try
        {
            int read;
            while ((read = await _channel.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false)) > 0)
            {
                if (!SpawnerWire.TryDecode(buffer.AsSpan(0, read), out var reply) || !_commands.TryGetValue(reply.Id, out var entry))
                {
                    continue;
                }

                switch (reply.Type)
                {
                    case SpawnerWire.Started:
                        entry.Started.TrySetResult((reply.A, reply.B));
                        break;
                    case SpawnerWire.Failed:
                        _commands.TryRemove(reply.Id, out _);
                        entry.Started.TrySetException(new CommandStartException(
                            $"The command could not be started inside the sandbox: {reply.Text} failed ({new System.ComponentModel.Win32Exception(reply.A).Message})."));
                        break;
                    case SpawnerWire.Exited:
                        _commands.TryRemove(reply.Id, out _);
                        entry.Exited.TrySetResult(SpawnerWire.ExitCode(reply.A));
                        break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        Lose();
    }

    /// <summary>The channel is gone: pending starts fail, running commands are killed and end with -1.</summary>
    private void Lose()
    {
        _lost = true;
        foreach (var (id, entry) in _commands)
        {
            _commands.TryRemove(id, out _);
            entry.Started.TrySetException(new SpawnerLostException());
            if (entry.Started.Task.IsCompletedSuccessfully)
            {
                KillStarted(entry.Started.Task, entry.Cgroup);
            }

            entry.Exited.TrySetResult(-1);
        }
    }

    private async Task LogErrorsAsync()
    {
        try
        {
            while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                Log.BoxLauncherOutput(_logger, _boxId, line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private static async Task<string> ReadErrorAsync(Process process)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            return (await process.StandardError.ReadToEndAsync(cts.Token).ConfigureAwait(false)).Trim();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            return "";
        }
    }

    private static void Abort(Process process, Socket? channel)
    {
        channel?.Dispose();
        try
        {
            process.Kill();
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }

        process.Dispose();
    }

    /// <summary>Closes the channel (the spawner exits at its end) and makes sure the spawner is gone.</summary>
    public async ValueTask DisposeAsync()
    {
        _lost = true;
        _channel.Dispose();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            BoxLauncher.Kill(_process);
        }

        await _reader.ConfigureAwait(false);
        foreach (IDisposable pipe in (IDisposable[])[_process.StandardOutput, _process.StandardError])
        {
            try
            {
                pipe.Dispose();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
            }
        }

        _process.Dispose();
        _sendLock.Dispose();
    }

    private sealed class Entry(CommandCgroup? cgroup)
    {
        public CommandCgroup? Cgroup { get; } = cgroup;

        public TaskCompletionSource<(int HostPid, int BoxPid)> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<int> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
