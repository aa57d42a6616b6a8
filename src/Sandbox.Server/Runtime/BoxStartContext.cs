using Sandbox.Protocol;

namespace Sandbox.Server.Runtime;

/// <summary>What an <see cref="IBoxStartContributor"/> sees and may add to when a box starts.</summary>
internal sealed class BoxStartContext
{
    public BoxStartContext(string boxId, string boxName, SandboxInfo info)
    {
        BoxId = boxId;
        BoxName = boxName;
        Info = info;
    }

    public string BoxId { get; }

    public string BoxName { get; }

    /// <summary>The box's configuration as the API reports it (proxy_config, labels, run_config, ...).</summary>
    public SandboxInfo Info { get; }

    /// <summary>The stored proxy_config, unredacted (opaque values included); null when the box has none.</summary>
    public ProxyConfig? ProxyConfig { get; init; }

    /// <summary>Environment variables every command in the box receives (below the box's and command's run_config).</summary>
    public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Host files or directories bind-mounted read-only into the box.</summary>
    public IList<BoxBindMount> ReadOnlyBindMounts { get; } = [];
}
