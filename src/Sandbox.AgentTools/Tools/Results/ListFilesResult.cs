namespace Sandbox.AgentTools;

/// <summary>What <c>list_files</c> tells the model.</summary>
internal sealed record ListFilesResult(string Path, string Pattern, IReadOnlyList<FileEntry> Entries, int Count, long TotalBytes, bool Truncated, string? Note);
