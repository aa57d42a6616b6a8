using System.Runtime.InteropServices;

namespace Sandbox.Cli.Infrastructure;

/// <summary>
/// Turns Ctrl+C (SIGINT) and SIGTERM into a cancellation token instead of killing the process, so a command can clean
/// up: <c>exec</c> kills the remote command, <c>tunnel</c> closes its listener, the terminal mode is restored.
/// </summary>
internal sealed class InterruptSignal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly PosixSignalRegistration _int;
    private readonly PosixSignalRegistration _term;

    public InterruptSignal()
    {
        _int = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
    }

    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        _int.Dispose();
        _term.Dispose();
        _cts.Dispose();
    }

    private void Handle(PosixSignalContext context)
    {
        if (_cts.IsCancellationRequested)
        {
            return;   // a second Ctrl+C ends the process the default way
        }

        context.Cancel = true;
        _cts.Cancel();
    }
}
