using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Sandbox.Server.Files;

/// <summary>
/// New content for a file, written to a temporary file beside it. <see cref="Commit"/> renames it over the target
/// (atomic: readers see the old or the new file, never a part); disposing without committing removes it, so a rejected
/// or interrupted write leaves the old file as it was.
/// </summary>
internal sealed class PendingFile : IDisposable
{
    private readonly SafeFileHandle _parent;
    private readonly string _tempName;
    private readonly string _name;
    private readonly string _path;
    private bool _committed;

    private readonly int? _owner;

    internal PendingFile(SafeFileHandle parent, string tempName, string name, SafeFileHandle handle, string path, int? owner = null)
    {
        _owner = owner;
        _parent = parent;
        _tempName = tempName;
        _name = name;
        _path = path;
        Handle = handle;
    }

    /// <summary>The temporary file, open for writing.</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>Replaces the target with the written content.</summary>
    public void Commit()
    {
        Handle.Dispose();
        int parentFd = (int)_parent.DangerousGetHandle();
        int rc = LibC.RenameAt2(parentFd, _tempName, parentFd, _name, 0);
        if (rc != 0 && _owner is { } owner && Marshal.GetLastPInvokeError() == LibC.EOVERFLOW)
        {
            // A filesystem the box mounted in its own user namespace (its /tmp): host root has no id there.
            rc = LibC.AsFilesystemId(owner, () => LibC.RenameAt2(parentFd, _tempName, parentFd, _name, 0));
        }

        if (rc != 0)
        {
            throw FileSystemErrors.FromErrno(Marshal.GetLastPInvokeError(), "replace", _path);
        }

        _committed = true;
    }

    public void Dispose()
    {
        Handle.Dispose();
        if (!_committed)
        {
            LibC.UnlinkAt((int)_parent.DangerousGetHandle(), _tempName, 0);
        }

        _parent.Dispose();
    }
}
