namespace Sandbox.Server.Runtime;

/// <summary>Everything the launcher needs to start one box.</summary>
internal sealed record BoxLaunchSpec(
    string BoxId,
    string DiskDirectory,
    string? DiskImage,
    IReadOnlyList<OverlayMount> Overlays,
    IReadOnlyList<BoxBindMount> ReadOnlyBinds,
    IReadOnlyList<string> MaskedFiles,
    BoxCgroup? Cgroup,
    long TmpfsBytes,
    string? SeccompFilter = null);
