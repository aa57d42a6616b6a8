namespace Sandbox.AgentTools;

/// <summary>The output stream a <see cref="ToolOutputChunk"/> came from.</summary>
public enum ToolOutputStream
{
    /// <summary>Standard output.</summary>
    Stdout,

    /// <summary>Standard error.</summary>
    Stderr,
}
