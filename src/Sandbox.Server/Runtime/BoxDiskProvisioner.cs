using System.Diagnostics;
using Sandbox.Server.Files;

namespace Sandbox.Server.Runtime;

/// <summary>
/// Prepares a box's disk before it starts: the folder that holds its writable layers and, when the box has a capacity,
/// the sparse ext4 image (<c>mkfs.ext4</c>) mounted there, so no box can fill the host disk.
/// </summary>
internal sealed class BoxDiskProvisioner
{
    private readonly DataDirectory _data;
    private readonly HostCapabilities _host;
    private readonly SandboxServerOptions _options;
    private readonly SemaphoreSlim _templateLock = new(1, 1);

    public BoxDiskProvisioner(DataDirectory data, HostCapabilities host, SandboxServerOptions options)
    {
        _data = data;
        _host = host;
        _options = options;
    }

    /// <summary>Creates (or, for a non-persistent box, re-creates) the disk of <paramref name="record"/>.</summary>
    /// <returns>The disk folder, and the ext4 image to mount on it (null: the folder itself holds the files).</returns>
    public async Task<(string Disk, string? Image)> PrepareAsync(BoxRecord record, CancellationToken cancellationToken)
    {
        string disk = _data.BoxDisk(record.Id);
        if (!record.Persistent && Directory.Exists(disk))
        {
            FileTree.Delete(disk);
        }

        // Every box gets a disk of its own (a sparse ext4 image) so no box can fill the host disk: its requested
        // capacity, else the server default. A box whose files already live in a plain folder (written before the
        // default existed) keeps that folder.
        bool fresh = !Directory.Exists(disk) || File.Exists(_data.BoxDiskImage(record.Id));
        long? wantedCapacity = record.FsCapacityBytes ?? (fresh && _options.DefaultFsCapacityBytes > 0 ? _options.DefaultFsCapacityBytes : null);
        Directory.CreateDirectory(disk);
        string? image = null;
        if (wantedCapacity is { } capacity && _host.LoopDisks)
        {
            image = _data.BoxDiskImage(record.Id);
            if (!record.Persistent && File.Exists(image))
            {
                File.Delete(image);
            }

            if (!File.Exists(image))
            {
                await CreateDiskImageAsync(image, capacity, cancellationToken).ConfigureAwait(false);
            }
        }

        return (disk, image);
    }

    /// <summary>
    /// Creates a box's empty ext4 image as a sparse copy of a template made once per capacity (in
    /// <c>DATA/disk-templates</c>): a copy of the few MB <c>mkfs.ext4</c> writes costs milliseconds, the process itself
    /// 60-170 ms on a busy host. The copies share the template's filesystem UUID.
    /// </summary>
    private async Task CreateDiskImageAsync(string image, long capacity, CancellationToken cancellationToken)
    {
        string template = await EnsureTemplateAsync(capacity, cancellationToken).ConfigureAwait(false);
        string temp = image + ".tmp";
        File.Delete(temp);
        try
        {
            SparseFileCopy.Copy(template, temp);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        File.Move(temp, image, overwrite: true);
    }

    private async Task<string> EnsureTemplateAsync(long capacity, CancellationToken cancellationToken)
    {
        string directory = Path.Combine(_data.Root, "disk-templates");
        string template = Path.Combine(directory, $"ext4-{capacity.ToString(System.Globalization.CultureInfo.InvariantCulture)}.img");
        if (File.Exists(template))
        {
            return template;
        }

        await _templateLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(template))
            {
                Directory.CreateDirectory(directory);
                await MakeFileSystemAsync(template, capacity, cancellationToken).ConfigureAwait(false);
            }

            return template;
        }
        finally
        {
            _templateLock.Release();
        }
    }

    private async Task MakeFileSystemAsync(string image, long capacity, CancellationToken cancellationToken)
    {
        string temp = image + ".tmp";
        await using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            file.SetLength(capacity);
        }

        var psi = new ProcessStartInfo(_host.MkfsPath!) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in (string[])["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1", temp])
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi) ?? throw new BoxStartException("mkfs.ext4 could not be started");
        string stderr = await process.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            File.Delete(temp);
            throw new BoxStartException("Creating the sandbox filesystem failed: " + stderr.Trim());
        }

        File.Move(temp, image, overwrite: true);
    }
}
