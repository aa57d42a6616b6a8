namespace Sandbox.AgentTools;

/// <summary>A point-in-time count of the boxes a pool owns.</summary>
/// <param name="Idle">Warm boxes not yet given to a conversation.</param>
/// <param name="Assigned">Boxes bound to a conversation and not leased right now.</param>
/// <param name="Busy">Boxes leased right now.</param>
/// <param name="Total">Every box the pool owns, including those being created or deleted.</param>
public sealed record SandboxPoolStatistics(int Idle, int Assigned, int Busy, int Total);
