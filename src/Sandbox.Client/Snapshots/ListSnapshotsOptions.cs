namespace Sandbox.Client;

/// <summary>Query of <see cref="SandboxClient.ListSnapshotsAsync"/> (spec §6.14); only set values are sent.</summary>
public sealed record ListSnapshotsOptions
{
    /// <summary>Case-insensitive substring of the name.</summary>
    public string? NameContains { get; init; }

    /// <summary>Page size (1..500).</summary>
    public int? Limit { get; init; }

    /// <summary>Rows to skip.</summary>
    public int? Offset { get; init; }
}
