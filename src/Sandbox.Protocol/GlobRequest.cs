namespace Sandbox.Protocol;

/// <summary>Body of <c>POST {dataplane}/glob</c>; <c>ls</c> is a glob with pattern <c>*</c>.</summary>
public sealed record GlobRequest
{
    /// <summary>Pattern matched against paths relative to <see cref="Path"/> (<c>**</c>, <c>*</c>, <c>?</c>, <c>[...]</c>).</summary>
    public string Pattern { get; set; } = "*";

    /// <summary>Absolute directory to search under.</summary>
    public string Path { get; set; } = "/";

    /// <summary>Maximum number of matches.</summary>
    public int? Limit { get; init; }
}
