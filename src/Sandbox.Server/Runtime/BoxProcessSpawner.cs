using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Starts box launchers from one dedicated thread that lives as long as the server process.
/// </summary>
/// <remarks>
/// A box's launcher dies with its parent (bwrap <c>--die-with-parent</c>, i.e. <c>PR_SET_PDEATHSIG</c>), and Linux
/// tracks that parent per <em>thread</em>: a launcher forked from a thread-pool thread is killed when the pool retires
/// that thread. Forking every launcher here ties each box to the server process instead: the boxes live until they are
/// stopped, and still die (SIGKILL) when the server process dies, however it dies. Thread-safe.
/// </remarks>
internal sealed class BoxProcessSpawner
{
    private static readonly Lazy<BoxProcessSpawner> Instance = new(() => new BoxProcessSpawner());
    private readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Done)> _queue = [];

    private BoxProcessSpawner()
    {
        new Thread(Run) { IsBackground = true, Name = "sandbox box spawner" }.Start();
    }

    /// <summary>The process-wide spawner (one thread per server process, shared by every server it hosts).</summary>
    public static BoxProcessSpawner Shared => Instance.Value;

    /// <summary>Starts <paramref name="info"/> from the spawner thread.</summary>
    public Task<Process> StartAsync(ProcessStartInfo info)
    {
        var done = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add((info, done));
        return done.Task;
    }

    private void Run()
    {
        foreach (var (info, done) in _queue.GetConsumingEnumerable())
        {
            try
            {
                done.SetResult(Process.Start(info) ?? throw new InvalidOperationException("The process could not be started."));
            }
#pragma warning disable CA1031 // every failure goes back to the caller that queued the start
            catch (Exception e)
#pragma warning restore CA1031
            {
                done.SetException(e);
            }
        }
    }
}
