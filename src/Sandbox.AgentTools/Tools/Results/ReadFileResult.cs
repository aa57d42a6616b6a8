namespace Sandbox.AgentTools;

/// <summary>What <c>read_file</c> tells the model.</summary>
internal sealed record ReadFileResult
{
    public required string Path { get; init; }

    /// <summary><c>text</c>, <c>base64</c>, <c>image</c> or <c>binary</c> (described, not shown).</summary>
    public required string Kind { get; init; }

    public string? MediaType { get; init; }

    public long SizeBytes { get; init; }

    public long Offset { get; init; }

    public long Length { get; init; }

    public string? Content { get; init; }

    public bool Truncated { get; init; }

    public long? NextOffset { get; init; }

    public string? Note { get; init; }
}
