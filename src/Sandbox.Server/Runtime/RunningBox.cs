using System.Diagnostics;
using Sandbox.Server.Commands;
using Sandbox.Server.Files;

namespace Sandbox.Server.Runtime;

/// <summary>A started box: its launcher process, the host pid of its init, its cgroups, file view and commands.</summary>
internal sealed class RunningBox : IAsyncDisposable
{
    private readonly Process _launcher;
    private int _disposed;

    public RunningBox(Process launcher, int initPid, BoxCgroup? cgroup, int ownerId, string? seccompFilter = null, BoxCommandSpawner? spawner = null)
    {
        Spawner = spawner;
        SeccompFilter = seccompFilter;
        _launcher = launcher;
        InitPid = initPid;
        Cgroup = cgroup;
        Files = RootedFileSystem.Open($"/proc/{initPid}/root", ownerId);
        Commands = new CommandRegistry();
        OomKillsAtStart = cgroup?.OomKillCount() ?? 0;
    }

    /// <summary>Host pid of the box's init (pid 1 of its pid namespace); commands enter the box through it.</summary>
    public int InitPid { get; }

    /// <summary>Host pid of the process that holds the box's private mount namespace (its disk and overlays).</summary>
    public int LauncherPid => _launcher.Id;

    /// <summary>The box's network namespace, for dialing or listening on its loopback from the host.</summary>
    public string NetworkNamespacePath => $"/proc/{InitPid}/ns/net";

    public BoxCgroup? Cgroup { get; }

    /// <summary>The box's command spawner; null where it could not be started (commands then start through sandbox-box-exec).</summary>
    public BoxCommandSpawner? Spawner { get; }

    /// <summary>The compiled seccomp filter every process of the box runs under (null where none is built).</summary>
    public string? SeccompFilter { get; }

    public RootedFileSystem Files { get; }

    public CommandRegistry Commands { get; }

    public long OomKillsAtStart { get; }

    public bool HasExited
    {
        get
        {
            try
            {
                return _launcher.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>Completes when the box's launcher (and so its init) has exited.</summary>
    public Task WaitForExitAsync() => _launcher.WaitForExitAsync();

    /// <summary>
    /// Sends SIGKILL to every process of the box without waiting: its commands, its init (the kernel then kills every
    /// process of the box's pid namespace) and its launcher. <see cref="DisposeAsync"/> waits and cleans up after.
    /// </summary>
    public void Kill()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        Commands.KillAll();
        LibC.Kill(InitPid, 9);
        BoxLauncher.Kill(_launcher);
    }

    /// <summary>Kills every process of the box and removes its cgroups.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Commands.KillAll();
        LibC.Kill(InitPid, 9);
        BoxLauncher.Kill(_launcher);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _launcher.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
        }

        await Commands.DisposeAsync().ConfigureAwait(false);
        if (Spawner is not null)
        {
            await Spawner.DisposeAsync().ConfigureAwait(false);
        }

        Files.Dispose();
        if (Cgroup is not null)
        {
            await Cgroup.DeleteAsync().ConfigureAwait(false);
        }

        // Process.Dispose leaves the redirected pipes to the finalizer; close them now so no descriptor outlives the box.
        CloseLauncherPipes();
        _launcher.Dispose();
    }

    private void CloseLauncherPipes()
    {
        IDisposable[] pipes = [_launcher.StandardInput, _launcher.StandardOutput, _launcher.StandardError];
        foreach (var pipe in pipes)
        {
            try
            {
                pipe.Dispose();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
            }
        }
    }
}
