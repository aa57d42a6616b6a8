using System.Runtime.CompilerServices;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Files;

/// <summary>
/// Bounds the glob and grep walks running at once per box. A walk occupies a server thread while it runs; with this
/// bound, requests against one box (however large or slow its tree) cannot take the threads other boxes need.
/// </summary>
internal sealed class WalkSlot : IDisposable
{
    private static readonly ConditionalWeakTable<Box, SemaphoreSlim> Gates = [];
    private SemaphoreSlim? _gate;

    private WalkSlot(SemaphoreSlim gate) => _gate = gate;

    /// <summary>Waits for a free slot of <paramref name="box"/>; 429 (<see cref="BoxFileError.Busy"/>) when the walk's deadline passes first.</summary>
    public static async Task<WalkSlot> EnterAsync(Box box, SandboxServerOptions options, CancellationToken deadline, CancellationToken requestAborted)
    {
        var gate = Gates.GetValue(box, _ => new SemaphoreSlim(Math.Max(1, options.FileWalksPerBox)));
        try
        {
            // A free slot is taken even when the deadline has already passed (a loaded machine): the walk then answers
            // truncated at once instead of a misleading 429.
            if (!gate.Wait(0))
            {
                await gate.WaitAsync(deadline).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!requestAborted.IsCancellationRequested)
        {
            throw new BoxFileException(BoxFileError.Busy, $"Too many file searches are running in sandbox '{box.Name}'; try again later");
        }

        return new WalkSlot(gate);
    }

    public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release();
}
