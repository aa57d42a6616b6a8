namespace Sandbox.Protocol;

/// <summary>Response of <c>POST {dataplane}/glob</c>.</summary>
public sealed record GlobResponse
{
    /// <summary>Matching entries.</summary>
    public IReadOnlyList<GlobMatch> Matches { get; set; } = [];

    /// <summary>True when the answer is partial (limit, cap or deadline).</summary>
    public bool Truncated { get; init; }
}
