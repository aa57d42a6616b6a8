namespace Sandbox.AgentTools;

/// <summary>What <c>write_file</c> tells the model.</summary>
internal sealed record WriteFileResult(string Path, long BytesWritten, string Encoding);
