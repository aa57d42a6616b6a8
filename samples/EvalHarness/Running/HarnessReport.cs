namespace EvalHarness.Running;

/// <summary>Everything a run found out.</summary>
internal sealed record HarnessReport(
    IReadOnlyList<TaskResult> Results,
    TimeSpan Elapsed,
    string Backend,
    HealthCheck? Health,
    IReadOnlyList<string>? HostEscapes,
    IReadOnlyList<string>? BoxesLeft)
{
    public bool AllAsExpected => Results.All(r => r.AsExpected);

    /// <summary>Every verdict matched and every containment check held.</summary>
    public bool Success => AllAsExpected && Health is { Healthy: true } && HostEscapes is null or { Count: 0 } && BoxesLeft is null or { Count: 0 };
}
