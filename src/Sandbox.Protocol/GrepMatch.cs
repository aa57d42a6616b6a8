namespace Sandbox.Protocol;

/// <summary>One line found by grep.</summary>
public sealed record GrepMatch
{
    /// <summary>Absolute path of the file.</summary>
    public string Path { get; set; } = "";

    /// <summary>1-based line number.</summary>
    public int Line { get; init; }

    /// <summary>The matching line.</summary>
    public string Text { get; set; } = "";
}
