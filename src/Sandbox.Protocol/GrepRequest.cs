namespace Sandbox.Protocol;

/// <summary>Body of <c>POST {dataplane}/grep</c>.</summary>
public sealed record GrepRequest
{
    /// <summary>Literal text to find (not a regular expression).</summary>
    public string Pattern { get; set; } = "";

    /// <summary>Absolute directory searched recursively.</summary>
    public string Path { get; set; } = "/";

    /// <summary>File filter: a bare pattern matches basenames at any depth; one with <c>/</c> or <c>**</c> matches relative paths.</summary>
    public string? Glob { get; init; }

    /// <summary>Maximum number of matches.</summary>
    public int? Limit { get; init; }
}
