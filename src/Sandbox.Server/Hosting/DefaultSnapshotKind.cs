namespace Sandbox.Server;

/// <summary>What the built-in <c>default</c> snapshot is.</summary>
public enum DefaultSnapshotKind
{
    /// <summary>
    /// A Debian root filesystem of its own (python3 with numpy/pandas/matplotlib, nodejs, git, curl, build-essential), built
    /// with <c>mmdebstrap</c> from this machine's Debian mirror on first use and cached machine-wide.
    /// </summary>
    Debian,

    /// <summary>The host's own <c>/usr</c> and <c>/etc</c>, read-only (works offline; boxes see the host's configuration files).</summary>
    Host,
}
