namespace Sandbox.AgentTools;

/// <summary>One entry of <c>list_files</c>.</summary>
internal sealed record FileEntry(string Path, bool IsDir, long SizeBytes, string? ModifiedAt);
