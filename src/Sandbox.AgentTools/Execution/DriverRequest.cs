namespace Sandbox.AgentTools;

/// <summary>One line sent to an interpreter driver.</summary>
internal sealed record DriverRequest(string Id, string Code, string OutDir, IReadOnlyDictionary<string, string> Env);
