namespace Sandbox.Server.Files;

/// <summary>Sizes shared by the file transfer paths.</summary>
internal static class BoxFileCopy
{
    /// <summary>Size of one transfer block: large enough that per-call costs vanish against the copy itself.</summary>
    public const int BlockBytes = 1024 * 1024;
}
