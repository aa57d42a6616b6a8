namespace Sandbox.Client;

/// <summary>Which output stream a chunk belongs to.</summary>
public enum OutputStreamKind
{
    /// <summary>Standard output (under a PTY, the merged terminal output).</summary>
    Stdout,

    /// <summary>Standard error (never produced under a PTY).</summary>
    Stderr,
}
