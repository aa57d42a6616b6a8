namespace Sandbox.Client;

/// <summary>A piece of command output.</summary>
/// <param name="Stream">The stream it belongs to.</param>
/// <param name="Data">The text (whole UTF-8 characters).</param>
/// <param name="Offset">Byte offset of the chunk's first byte within its stream's UTF-8 encoding.</param>
public sealed record OutputChunk(OutputStreamKind Stream, string Data, long Offset);
