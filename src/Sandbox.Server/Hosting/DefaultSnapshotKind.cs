namespace Sandbox.Server;

/// <summary>What the built-in <c>default</c> snapshot is.</summary>
public enum DefaultSnapshotKind
{
    /// <summary>
    /// A Debian root filesystem of its own (python3 with numpy/pandas/matplotlib, nodejs, git, curl, build-essential), built
    /// with <c>mmdebstrap</c> from this machine's Debian mirror on first use and cached machine-wide. The default.
    /// </summary>
    Debian,

    /// <summary>
    /// The host's own <c>/usr</c> and <c>/etc</c>, read-only: for offline hosts with no Debian mirror (boxes see the host's
    /// configuration files, except shadow/gshadow/sudoers, and only the tools the host has installed).
    /// </summary>
    Host,
}
