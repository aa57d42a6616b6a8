namespace Sandbox.AgentTools;

/// <summary>A workspace file created, modified or deleted since the previous call.</summary>
internal sealed record FileChange(string Path, string Change, long? SizeBytes);
