using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Sandbox.Server.Files;

namespace Sandbox.Server.Runtime;

/// <summary>
/// The host ids a server's boxes run as: box uids/gids 0-65535 are host ids <see cref="Base"/> to <c>Base + 65535</c>, a
/// range that owns nothing on the host, so box root is not host root for any file, sysctl, keyring or cgroup.
/// </summary>
/// <remarks>
/// Files keep working: read-only lower layers (owned by host ids 0-65535: the host's <c>/usr</c>, imported snapshots)
/// are mounted through idmapped mounts (<c>open_tree</c> + <c>mount_setattr(MOUNT_ATTR_IDMAP)</c>) that show host id
/// <c>n</c> as box id <c>n</c>; a box's writable layer stores box id <c>n</c> as host id <c>Base + n</c> (an idmapped
/// upper layer would make the server's own file writes fail, since host root has no id in the range). Thread-safe.
/// </remarks>
internal sealed class BoxIdentity : IDisposable
{
    public const int Count = 65536;
    private readonly SafeFileHandle _userNamespace;

    private BoxIdentity(int idBase, SafeFileHandle userNamespace)
    {
        Base = idBase;
        _userNamespace = userNamespace;
    }

    /// <summary>Host uid and gid of box root.</summary>
    public int Base { get; }

    /// <summary>The uid_map / gid_map line of a box's user namespace.</summary>
    public string MapLine => $"0 {Base.ToString(CultureInfo.InvariantCulture)} {Count.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Checks the configured base: above the host's own ids, below the ids systemd reserves, not overflowing.</summary>
    public static void Validate(long idBase)
    {
        if (idBase < Count || idBase + Count > 0x7FFE0000L)
        {
            throw new ArgumentOutOfRangeException(nameof(idBase), idBase,
                $"{nameof(SandboxServerOptions.BoxIdBase)} must be between {Count} and {0x7FFE0000L - Count} (a range of {Count} host ids no host user or file uses)");
        }
    }

    /// <summary>Creates the user namespace that carries the mapping for idmapped mounts (a short-lived unshare process).</summary>
    public static BoxIdentity Create(int idBase, string unsharePath)
    {
        Validate(idBase);
        var psi = new ProcessStartInfo(unsharePath) { UseShellExecute = false, RedirectStandardInput = true };
        foreach (string arg in (string[])["--user", "--", "/bin/sh", "-c", "read -r _"])
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("unshare could not be started");
        try
        {
            string own = ReadLink("/proc/self/ns/user");
            string path = $"/proc/{process.Id.ToString(CultureInfo.InvariantCulture)}/ns/user";
            var deadline = Stopwatch.StartNew();
            while (ReadLink(path) == own)
            {
                if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(10))
                {
                    throw new InvalidOperationException("unshare --user did not create a user namespace");
                }

                Thread.Sleep(1);
            }

            string map = $"0 {idBase.ToString(CultureInfo.InvariantCulture)} {Count.ToString(CultureInfo.InvariantCulture)}";
            File.WriteAllText($"/proc/{process.Id.ToString(CultureInfo.InvariantCulture)}/uid_map", map);
            File.WriteAllText($"/proc/{process.Id.ToString(CultureInfo.InvariantCulture)}/gid_map", map);
            int fd = LibC.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
            if (fd < 0)
            {
                throw new IOException($"Opening {path} failed (errno {Marshal.GetLastPInvokeError()})");
            }

            return new BoxIdentity(idBase, new SafeFileHandle(fd, ownsHandle: true));
        }
        finally
        {
            process.StandardInput.Close();
            process.WaitForExit(5000);
        }
    }

    private static string ReadLink(string path) => new FileInfo(path).LinkTarget ?? "";

    /// <summary>
    /// Read-only, nosuid, nodev detached copies of <paramref name="directories"/> with host ids 0-65535 shown as the box's
    /// ids. Each is named by a <c>/proc/{server pid}/fd/{n}</c> path, usable as an overlay lower layer while the
    /// returned handles are open (overlay keeps its own private copy once mounted). The paths reveal nothing of the host.
    /// </summary>
    public IdmappedLayers MapLayers(IEnumerable<string> directories)
    {
        var layers = new IdmappedLayers();
        try
        {
            foreach (string directory in directories)
            {
                if (layers.Paths.ContainsKey(directory))
                {
                    continue;
                }

                int fd = LibC.OpenIdmappedTree(directory, (int)_userNamespace.DangerousGetHandle(),
                    LibC.MOUNT_ATTR_RDONLY | LibC.MOUNT_ATTR_NOSUID | LibC.MOUNT_ATTR_NODEV);
                if (fd < 0)
                {
                    throw new BoxStartException($"The layer '{directory}' cannot be mapped to the sandbox's ids (idmapped mount: errno {Marshal.GetLastPInvokeError()})");
                }

                layers.Add(directory, fd);
            }

            return layers;
        }
        catch
        {
            layers.Dispose();
            throw;
        }
    }

    /// <summary>Creates <paramref name="path"/> (and parents) owned by box root.</summary>
    public void CreateOwnedDirectory(string path)
    {
        Directory.CreateDirectory(path);
        if (LibC.Lchown(path, Base, Base) != 0)
        {
            throw new IOException($"chown of '{path}' failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>
    /// Re-owns every entry of a tree whose host owner is in [<paramref name="from"/>, from + 65536) to the same offset
    /// from <paramref name="to"/> (e.g. a captured writable layer back to 0-based ids), keeping set-id mode bits.
    /// Symlinks are re-owned, never followed.
    /// </summary>
    public static void ShiftTree(string root, int from, int to)
    {
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            string path = pending.Pop();
            if (LibC.Statx(LibC.AT_FDCWD, path, LibC.AT_SYMLINK_NOFOLLOW, out var status) != 0)
            {
                continue;
            }

            Shift(path, status, from, to);
            if (status.IsDirectory)
            {
                foreach (string child in Directory.EnumerateFileSystemEntries(path))
                {
                    pending.Push(child);
                }
            }
        }
    }

    private static void Shift(string path, FileStatus status, int from, int to)
    {
        long uid = status.Uid, gid = status.Gid;
        bool uidIn = uid >= from && uid < (long)from + Count;
        bool gidIn = gid >= from && gid < (long)from + Count;
        if (!uidIn && !gidIn)
        {
            return;
        }

        int newUid = uidIn ? (int)(uid - from + to) : -1;
        int newGid = gidIn ? (int)(gid - from + to) : -1;
        if (LibC.Lchown(path, newUid, newGid) == 0 && !status.IsSymlink && (status.Mode & 0xC00) != 0)
        {
            LibC.Chmod(path, (uint)(status.Mode & 0xFFF)); // chown clears set-uid/set-gid
        }
    }

    public void Dispose() => _userNamespace.Dispose();
}
