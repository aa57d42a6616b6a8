using System.Diagnostics;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Commands;

/// <summary>A command that runs as a <see cref="Process"/> the server started (sandbox-box-exec, or a host-side process).</summary>
internal sealed class HostCommandProcess(Process process) : ICommandProcess
{
    public int HostPid { get; } = process.Id;

    public Stream StandardInput => process.StandardInput.BaseStream;

    public Stream StandardOutput => process.StandardOutput.BaseStream;

    public Stream StandardError => process.StandardError.BaseStream;

    public async Task<int> WaitForExitAsync()
    {
        await process.WaitForExitAsync().ConfigureAwait(false);
        try
        {
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    public void KillTree(CommandCgroup? cgroup)
    {
        if (cgroup is { CanKillTree: true })
        {
            // Everything but sandbox-box-exec (the process itself): it reaps the killed command and exits by itself.
            cgroup.KillAllExcept(HostPid);
            return;
        }

        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException or ObjectDisposedException)
        {
        }
    }

    public void Dispose() => process.Dispose();
}
