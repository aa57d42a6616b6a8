namespace Sandbox.Client;

/// <summary>A byte range to read (delta §5.2): either <see cref="Start"/> (with an optional inclusive <see cref="End"/>) or
/// <see cref="SuffixBytes"/> (the last n bytes).</summary>
public sealed record RangeReadOptions
{
    /// <summary>First byte to read (≥ 0).</summary>
    public long? Start { get; init; }

    /// <summary>Last byte to read, inclusive (≥ <see cref="Start"/>); past the end is clamped by the server.</summary>
    public long? End { get; init; }

    /// <summary>Read the last n bytes (&gt; 0); cannot be combined with <see cref="Start"/>/<see cref="End"/>.</summary>
    public long? SuffixBytes { get; init; }

    /// <summary>An ETag from an earlier read: the range is honoured only if the file still matches (else the whole file).</summary>
    public string? IfRange { get; init; }

    /// <summary>An ETag the caller holds: an unchanged file answers 304 (<see cref="RangeReadResult.Unchanged"/>).</summary>
    public string? IfNoneMatch { get; init; }

    /// <summary>Per-call headers (delta §2.2); <c>Range</c>, <c>If-Range</c> and <c>If-None-Match</c> set from this record
    /// and the API key override same-named entries; default headers never do.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}
