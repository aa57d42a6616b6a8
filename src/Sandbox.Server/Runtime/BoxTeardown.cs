using System.Collections.Concurrent;
using System.Diagnostics;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Files;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Finishes deleting boxes off the request path. A deleted box is unreachable at once (its processes are sent SIGKILL
/// and it leaves the registry, so its name and id are free); what can take long happens here: waiting for its launcher
/// to exit (the kernel unmounts the box's disk and releases its loop device then), removing its cgroups, and removing
/// its folder (a hostile tree of many thousand directories can take a minute on a busy disk).
/// </summary>
/// <remarks>
/// At most <see cref="MaxConcurrent"/> teardowns run at once (each is mostly disk I/O). Server shutdown waits for every
/// pending one (<see cref="WhenIdleAsync"/>); what a killed server left is found by the next start from the box's
/// record (status <c>deleting</c>) and removed again. Thread-safe.
/// </remarks>
internal sealed partial class BoxTeardown
{
    public const int MaxConcurrent = 2;

    /// <summary>Teardowns after which, once none is pending, the memory their boxes used is handed back (see <see cref="OnTeardownFinished"/>).</summary>
    internal const int CompactAfter = 50;
    private int _finishedSinceCompaction;
    private readonly ConcurrentDictionary<string, Task> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(MaxConcurrent, MaxConcurrent);
    private readonly ILogger _logger;

    public BoxTeardown(ILogger logger)
    {
        _logger = logger;
    }

    /// <summary>How many teardowns are queued or running.</summary>
    public int Pending => _pending.Count;

    /// <summary>
    /// Queues the teardown of a box whose processes were already killed (<see cref="RunningBox.Kill"/>): disposes
    /// <paramref name="running"/> (if any), then removes <paramref name="directory"/>. A second request for the same box
    /// while one is pending is a no-op.
    /// </summary>
    public void Enqueue(string boxId, RunningBox? running, string directory)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var task = RunAsync(boxId, running, directory, gate.Task);
        if (!_pending.TryAdd(boxId, task))
        {
            // Already being torn down (a restart found its record while an earlier teardown runs): this one only
            // disposes its own handle.
            gate.SetCanceled();
            return;
        }

        _ = task.ContinueWith(t =>
        {
            _pending.TryRemove(new KeyValuePair<string, Task>(boxId, t));
            OnTeardownFinished();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        gate.SetResult();
    }

    /// <summary>
    /// After many boxes went away at once (<see cref="CompactAfter"/> teardowns since the last time, and none pending),
    /// one aggressive garbage collection on a pool thread: the server GC otherwise keeps the memory those boxes' objects
    /// used (launcher processes, pipes and their buffers, command registries) for as long as nothing allocates. Never on
    /// a request path; a server that creates and deletes boxes one by one reaches it once per that many deletes.
    /// </summary>
    private void OnTeardownFinished()
    {
        if (Interlocked.Increment(ref _finishedSinceCompaction) < CompactAfter || !_pending.IsEmpty)
        {
            return;
        }

        Interlocked.Exchange(ref _finishedSinceCompaction, 0);
        _ = Task.Run(() =>
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            // The native side (glibc arenas that served the launchers' pipes and process starts) keeps freed pages too.
            if (OperatingSystem.IsLinux())
            {
                try
                {
                    MallocTrim(0);
                }
                catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
                {
                    // Not glibc (musl has no malloc_trim): nothing to hand back this way.
                }
            }
        });
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>Completes when no teardown is pending (including ones queued while waiting).</summary>
    public async Task WhenIdleAsync()
    {
        while (!_pending.IsEmpty)
        {
            await Task.WhenAll(_pending.Values).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(string boxId, RunningBox? running, string directory, Task gate)
    {
        try
        {
            await gate.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            if (running is not null)
            {
                await running.DisposeAsync().ConfigureAwait(false);
            }

            return;
        }

        await _slots.WaitAsync().ConfigureAwait(false);
        var elapsed = Stopwatch.StartNew();
        try
        {
            if (running is not null)
            {
                // Waits (bounded) for the launcher to exit, closes the box's file view and removes its cgroups.
                await running.DisposeAsync().ConfigureAwait(false);
            }

            await Task.Run(() => RemoveDirectory(directory)).ConfigureAwait(false);
            Log.BoxTornDown(_logger, boxId, elapsed.Elapsed.TotalMilliseconds);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Log.TeardownFailed(_logger, boxId, e);
        }
        finally
        {
            _slots.Release();
        }
    }

    private static void RemoveDirectory(string directory)
    {
        // A second pass picks up anything written while the first ran (a last metadata write racing the delete).
        for (int attempt = 0; attempt < 3 && Directory.Exists(directory); attempt++)
        {
            FileTree.Delete(directory);
        }

        if (Directory.Exists(directory))
        {
            throw new IOException($"The folder of the deleted box could not be removed: {directory}");
        }
    }
}
