namespace Sandbox.Protocol;

/// <summary>Response of <c>POST {dataplane}/grep</c>.</summary>
public sealed record GrepResponse
{
    /// <summary>Matching lines.</summary>
    public IReadOnlyList<GrepMatch> Matches { get; set; } = [];

    /// <summary>True when the answer is partial.</summary>
    public bool Truncated { get; init; }
}
