namespace Sandbox.Protocol;

/// <summary>The structured error detail <c>{"detail": {"error", "message", "error_id"}}</c>.</summary>
public sealed record ErrorDetail
{
    /// <summary>Error type, e.g. <c>NotFound</c>, <c>ImagePull</c>, <c>WriteError</c>.</summary>
    public string? Error { get; init; }

    /// <summary>Human-readable message.</summary>
    public string? Message { get; init; }

    /// <summary>Opaque id for support.</summary>
    public string? ErrorId { get; init; }
}
