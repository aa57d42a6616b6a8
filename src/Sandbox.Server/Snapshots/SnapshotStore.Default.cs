using Sandbox.Protocol;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Snapshots.Default;

namespace Sandbox.Server.Snapshots;

/// <summary>The Debian <c>default</c> snapshot (<see cref="DefaultSnapshotKind.Debian"/>).</summary>
internal sealed partial class SnapshotStore
{
    private readonly SandboxServerOptions _options;

    /// <summary>The host-folder snapshot older captures are layered on, when this data folder has one.</summary>
    private SnapshotRecord? HostBase => _snapshots.Values.FirstOrDefault(s => s.Kind == SnapshotKind.Host && s.Layers.Count == 0 && s.DockerImage == "host");

    private SnapshotRecord InitializeDebianDefault()
    {
        string cache = _options.CacheDirectory ?? DebianRootfs.DefaultCacheRoot();
        string rootfs = DebianRootfs.EnsureAsync(cache, line =>
        {
            Console.Error.WriteLine(line);
            Log.DefaultSnapshotProgress(_logger, line);
        }, CancellationToken.None).GetAwaiter().GetResult();
        if (_snapshots.Values.FirstOrDefault(s => s.Name == DefaultName && s.Kind == SnapshotKind.Rootfs && s.RootfsPath == rootfs) is { } existing)
        {
            return existing;
        }

        foreach (var previous in _snapshots.Values.Where(s => s.Name == DefaultName))
        {
            previous.Name = "default-previous-" + previous.Id[..8]; // a host-folder or older default stays usable by id
            Save(previous);
        }

        return Register(new SnapshotRecord
        {
            Name = DefaultName,
            Status = SnapshotStatus.Ready,
            Kind = SnapshotKind.Rootfs,
            RootfsPath = rootfs,
            DockerImage = "debian:" + Path.GetFileName(rootfs),
            RunConfig = new RunConfig { User = "0", WorkDir = "/home/user" },
        }, claimName: false);
    }
}
