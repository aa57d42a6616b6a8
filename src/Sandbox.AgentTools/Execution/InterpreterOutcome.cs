namespace Sandbox.AgentTools;

/// <summary>What one interpreter call produced.</summary>
internal sealed record InterpreterOutcome(TruncatedText Stdout, TruncatedText Stderr, DriverStatus? Status, bool TimedOut, bool OutputLimited, bool Exited, string? ExitReason);
