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

    internal PendingFile(SafeFileHandle parent, string tempName, string name, SafeFileHandle handle, string path)
    {
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
        if (LibC.RenameAt2(parentFd, _tempName, parentFd, _name, 0) != 0)
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
