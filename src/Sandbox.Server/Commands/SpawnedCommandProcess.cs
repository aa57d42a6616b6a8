using Sandbox.Server.Files;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Commands;

/// <summary>A command started by the box's command spawner (<see cref="BoxCommandSpawner"/>): its own process, in its own session.</summary>
internal sealed class SpawnedCommandProcess(int hostPid, Stream stdin, Stream stdout, Stream stderr, Task<int> exited) : ICommandProcess
{
    public int HostPid { get; } = hostPid;

    public Stream StandardInput { get; } = stdin;

    public Stream StandardOutput { get; } = stdout;

    public Stream StandardError { get; } = stderr;

    public Task<int> WaitForExitAsync() => exited;

    public void KillTree(CommandCgroup? cgroup)
    {
        if (cgroup is { CanKillTree: true })
        {
            cgroup.KillAll();
            return;
        }

        // Without a cgroup: the command's session (it called setsid), then the process itself. The spawner reaps it.
        LibC.Kill(-HostPid, 9);
        LibC.Kill(HostPid, 9);
    }

    public void Dispose()
    {
        StandardInput.Dispose();
        StandardOutput.Dispose();
        StandardError.Dispose();
    }
}
