namespace Sandbox.AgentTools;

/// <summary>The driver's report at the end of a call.</summary>
internal sealed record DriverStatus(string? Id, string Status, string? Error, IReadOnlyList<string>? Images);
