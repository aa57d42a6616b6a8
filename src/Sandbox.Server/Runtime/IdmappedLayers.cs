using System.Globalization;
using Sandbox.Server.Files;

namespace Sandbox.Server.Runtime;

/// <summary>Idmapped detached mounts of lower layers, by host directory; disposing closes them.</summary>
internal sealed class IdmappedLayers : IDisposable
{
    private readonly List<int> _fds = [];

    /// <summary>Host directory → <c>/proc/{server pid}/fd/{n}</c>.</summary>
    public Dictionary<string, string> Paths { get; } = new(StringComparer.Ordinal);

    public void Add(string directory, int fd)
    {
        _fds.Add(fd);
        Paths[directory] = $"/proc/{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}/fd/{fd.ToString(CultureInfo.InvariantCulture)}";
    }

    public void Dispose()
    {
        foreach (int fd in _fds)
        {
            LibC.Close(fd);
        }

        _fds.Clear();
    }
}
