using Sandbox.Protocol;

namespace Sandbox.AgentTools;

/// <summary>The workspace's files at one moment (from a glob), to tell which ones a call changed.</summary>
internal sealed record WorkspaceSnapshot(IReadOnlyDictionary<string, GlobMatch> Files, bool Truncated);
