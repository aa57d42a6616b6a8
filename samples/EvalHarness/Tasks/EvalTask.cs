using System.Text.Json.Serialization;

namespace EvalHarness.Tasks;

/// <summary>One line of the task file: a model-written solution, its tests and the verdict we expect.</summary>
internal sealed record EvalTask
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    [JsonPropertyName("title")]
    public string? Title { get; init; }

    /// <summary><c>correct</c>, <c>wrong</c>, <c>slow</c> or <c>hostile</c> (for the table only).</summary>
    [JsonPropertyName("kind")]
    public string? Kind { get; init; }

    /// <summary><c>pass</c>, <c>fail</c> or <c>timeout</c>.</summary>
    [JsonPropertyName("expected")]
    public required string Expected { get; init; }

    [JsonPropertyName("timeout_seconds")]
    public double TimeoutSeconds { get; init; } = 10;

    /// <summary>Limits the task relies on to be contained (<c>pids</c>, <c>mem_bytes</c>); skipped where the server does not enforce them.</summary>
    [JsonPropertyName("requires")]
    public IReadOnlyList<string>? Requires { get; init; }

    /// <summary>The solution, saved as <c>solution.py</c>.</summary>
    [JsonPropertyName("code")]
    public required string Code { get; init; }

    /// <summary>The tests, saved as <c>test_solution.py</c> and run with python3: exit code 0 = pass.</summary>
    [JsonPropertyName("tests")]
    public required string Tests { get; init; }

    [JsonIgnore]
    public Verdict ExpectedVerdict => Expected switch
    {
        "pass" => Verdict.Passed,
        "fail" => Verdict.Failed,
        "timeout" => Verdict.TimedOut,
        _ => throw new InvalidDataException($"task {Id}: expected must be pass, fail or timeout, not '{Expected}'"),
    };
}
