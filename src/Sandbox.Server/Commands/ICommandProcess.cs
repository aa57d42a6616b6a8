using Sandbox.Server.Runtime;

namespace Sandbox.Server.Commands;

/// <summary>A started command as its <see cref="CommandSession"/> sees it: its host process, its three pipes and its end.</summary>
internal interface ICommandProcess : IDisposable
{
    /// <summary>The pid, on the host, of the process whose end is the command's end.</summary>
    int HostPid { get; }

    /// <summary>The command's stdin (writable; closing it closes the command's stdin).</summary>
    Stream StandardInput { get; }

    Stream StandardOutput { get; }

    Stream StandardError { get; }

    /// <summary>Completes with the exit code (128 + signal number for a process killed by a signal, -1 when unknown).</summary>
    Task<int> WaitForExitAsync();

    /// <summary>SIGKILLs the command's whole process tree: through <paramref name="cgroup"/> when it has one.</summary>
    void KillTree(CommandCgroup? cgroup);
}
