using System.Collections.Concurrent;
using EvalHarness.Tasks;
using Sandbox.AgentTools;
using Sandbox.Client;

namespace EvalHarness.Running;

/// <summary>Runs every task, each in its own leased box, a bounded number at once, then checks the server and the host.</summary>
internal sealed class Harness(HarnessSettings settings, TimeProvider time)
{
    /// <summary>Called when a task starts.</summary>
    public Action<EvalTask>? TaskStarted { get; init; }

    /// <summary>Called when a task ends.</summary>
    public Action<TaskResult>? TaskFinished { get; init; }

    /// <summary>Progress messages (starting the server, warming boxes, checks).</summary>
    public Action<string>? Status { get; init; }

    public async Task<HarnessReport> RunAsync(IReadOnlyList<EvalTask> tasks, CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        Status?.Invoke("starting the sandboxes");
        await using HarnessBackend backend = await HarnessBackend.StartAsync(settings.Endpoint, settings.ApiKey, settings.Hosted, cancellationToken);
        Status?.Invoke(backend.Description);
        using HostProbe? host = backend.IsEmbedded ? new HostProbe() : null;

        int parallel = Math.Clamp(settings.Parallel, 1, 32);
        var poolOptions = new SandboxPoolOptions
        {
            // Boxes are created on demand, one per task, and deleted when the task ends; no warm spares are kept, so
            // nothing is being created in the background when the run ends.
            MinIdle = 0,
            MaxBoxes = parallel + 1,
            AcquireTimeout = TimeSpan.FromMinutes(2),
            CreateOptions = new CreateSandboxOptions { MemBytes = settings.BoxMemoryBytes, Vcpus = 1 },
        };

        var results = new ConcurrentDictionary<string, TaskResult>(StringComparer.Ordinal);
        HealthCheck health;
        await using (var pool = new SandboxLeasePool(backend.Client, poolOptions, time))
        {
            var runner = new TaskRunner(pool, time);
            await Parallel.ForEachAsync(tasks, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken },
                async (task, ct) =>
                {
                    TaskResult result;
                    if (task.Requires?.FirstOrDefault(backend.UnenforcedLimits.Contains) is { } missing)
                    {
                        result = new TaskResult(task, Verdict.Skipped, null, TimeSpan.Zero, TimeSpan.Zero, null,
                            $"skipped: this host cannot enforce the '{missing}' limit the task relies on");
                    }
                    else
                    {
                        TaskStarted?.Invoke(task);
                        result = await runner.RunAsync(task, ct);
                    }

                    results[task.Id] = result;
                    TaskFinished?.Invoke(result);
                });

            Status?.Invoke("checking that the server still serves a fresh box");
            health = await CheckHealthAsync(pool, cancellationToken);
        }

        IReadOnlyList<string>? boxesLeft = null;
        if (backend.IsEmbedded)
        {
            // The pool deleted every box it created; on the embedded server nothing else creates boxes.
            boxesLeft = (await backend.Client.ListSandboxesAsync(cancellationToken)).Select(b => $"{b.Name} ({b.Status})").ToList();
        }

        return new HarnessReport(
            tasks.Select(t => results[t.Id]).ToList(),
            time.GetElapsedTime(started),
            backend.Description,
            health,
            host?.FindEscapes(),
            boxesLeft);
    }

    private async Task<HealthCheck> CheckHealthAsync(SandboxLeasePool pool, CancellationToken cancellationToken)
    {
        const string id = "health-check";
        long started = time.GetTimestamp();
        try
        {
            await using (SandboxLease lease = await pool.RentAsync(id, cancellationToken))
            {
                CommandResult result = await lease.Sandbox.RunAsync("python3 -c 'print(6 * 7)'", new RunOptions { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken);
                bool ok = result.ExitCode == 0 && result.Stdout.Trim() == "42";
                return new HealthCheck(ok, time.GetElapsedTime(started),
                    ok ? $"a fresh box ran python in {time.GetElapsedTime(started).TotalSeconds:0.0} s" : $"unexpected answer: exit {result.ExitCode}, '{result.Stdout.Trim()}' {result.Stderr.Trim()}");
            }
        }
        catch (SandboxException ex)
        {
            return new HealthCheck(false, time.GetElapsedTime(started), ex.Message);
        }
        finally
        {
            await pool.ReleaseConversationAsync(id, CancellationToken.None);
        }
    }
}
