using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sandbox.AgentTools;

/// <summary>The assembly's one <see cref="ActivitySource"/> and <see cref="Meter"/>, and the instruments on it.</summary>
internal static class SandboxToolsDiagnostics
{
    /// <summary>Name of the activity source and the meter (add it with <c>AddSource</c> / <c>AddMeter</c>).</summary>
    public const string Name = "Sandbox.AgentTools";

    private static readonly ConcurrentDictionary<SandboxLeasePool, byte> Pools = new();

    public static ActivitySource ActivitySource { get; } = new(Name, typeof(SandboxToolsDiagnostics).Assembly.GetName().Version?.ToString());

    public static Meter Meter { get; } = new(Name, typeof(SandboxToolsDiagnostics).Assembly.GetName().Version?.ToString());

    public static Histogram<double> LeaseWaitTime { get; } = Meter.CreateHistogram<double>(
        "sandbox.pool.lease.wait_time", "s", "Time a caller waited for a sandbox lease.");

    public static Histogram<double> CreateDuration { get; } = Meter.CreateHistogram<double>(
        "sandbox.pool.create.duration", "s", "Time to create a ready sandbox.");

    public static Counter<long> BoxesCreated { get; } = Meter.CreateCounter<long>(
        "sandbox.pool.boxes.created", "{sandbox}", "Sandboxes created by the pool.");

    public static Counter<long> BoxesDeleted { get; } = Meter.CreateCounter<long>(
        "sandbox.pool.boxes.deleted", "{sandbox}", "Sandboxes deleted by the pool.");

    public static Histogram<double> ToolDuration { get; } = Meter.CreateHistogram<double>(
        "gen_ai.tool.duration", "s", "Duration of sandbox tool calls.");

    static SandboxToolsDiagnostics()
    {
        Meter.CreateObservableUpDownCounter("sandbox.pool.boxes", ObserveBoxes, "{sandbox}",
            "Sandboxes owned by the pool, by state: idle (warm, unassigned), assigned (bound to a conversation, not leased), busy (leased).");
    }

    public static void Register(SandboxLeasePool pool) => Pools.TryAdd(pool, 0);

    public static void Unregister(SandboxLeasePool pool) => Pools.TryRemove(pool, out _);

    private static IEnumerable<Measurement<int>> ObserveBoxes()
    {
        foreach (SandboxLeasePool pool in Pools.Keys)
        {
            SandboxPoolStatistics stats = pool.GetStatistics();
            var name = new KeyValuePair<string, object?>("sandbox.pool.name", pool.Name);
            yield return new Measurement<int>(stats.Idle, name, new KeyValuePair<string, object?>("state", "idle"));
            yield return new Measurement<int>(stats.Assigned, name, new KeyValuePair<string, object?>("state", "assigned"));
            yield return new Measurement<int>(stats.Busy, name, new KeyValuePair<string, object?>("state", "busy"));
        }
    }
}
