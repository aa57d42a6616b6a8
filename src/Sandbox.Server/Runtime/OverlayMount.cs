namespace Sandbox.Server.Runtime;

/// <summary>One overlay of a box: read-only <paramref name="LowerDirs"/> (top first) under a writable upper named <paramref name="Key"/>, mounted at <paramref name="Target"/>.</summary>
internal sealed record OverlayMount(string Target, string Key, IReadOnlyList<string> LowerDirs);
