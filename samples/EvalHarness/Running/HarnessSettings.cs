namespace EvalHarness.Running;

/// <summary>The harness's settings, from the command line and the environment.</summary>
internal sealed record HarnessSettings
{
    public required string TasksPath { get; init; }

    /// <summary>Tasks run at once, each in its own box.</summary>
    public int Parallel { get; init; } = 4;

    public Uri? Endpoint { get; init; }

    public string? ApiKey { get; init; }

    public bool Hosted { get; init; }

    /// <summary>Memory limit of every box (the memory bomb must hit it).</summary>
    public long BoxMemoryBytes { get; init; } = 256L * 1024 * 1024;

    public override string ToString() => $"tasks={TasksPath} parallel={Parallel} endpoint={Endpoint?.ToString() ?? "(embedded)"} hosted={Hosted}";
}
