using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Sandbox.Protocol;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;
using Sandbox.Server.Files;

namespace Sandbox.Server.Snapshots;

/// <summary>
/// Builds root filesystems from a local folder or a <c>docker save</c> / OCI archive: layers are applied in order with
/// whiteouts, every path is resolved inside the new root (a symlink in one layer can never redirect a later write
/// outside it).
/// </summary>
internal sealed class SnapshotImporter
{
    private readonly ILogger _logger;

    public SnapshotImporter(ILogger logger) => _logger = logger;

    /// <summary>Whether <c>docker_image</c> names a local folder or archive (an absolute path or a local prefix) rather than a registry image.</summary>
    public static bool IsLocalSource(string dockerImage)
    {
        string value = dockerImage.Trim();
        return value.StartsWith('/') || ((string[])["dir:", "docker-archive:", "oci-archive:", "file:"]).Any(p => value.StartsWith(p, StringComparison.Ordinal));
    }

    /// <summary>Interprets <c>docker_image</c>: <c>dir:/path</c>, an absolute folder, or an absolute archive path.</summary>
    public static SnapshotSource ResolveSource(string dockerImage)
    {
        string value = dockerImage.Trim();
        foreach (string prefix in (string[])["dir:", "docker-archive:", "oci-archive:", "file:"])
        {
            if (value.StartsWith(prefix, StringComparison.Ordinal))
            {
                value = value[prefix.Length..];
                break;
            }
        }

        if (value.StartsWith('/'))
        {
            if (Directory.Exists(value))
            {
                return new SnapshotSource(value, IsArchive: false);
            }

            if (File.Exists(value))
            {
                return new SnapshotSource(value, IsArchive: true);
            }

            throw new InvalidRequestException("docker_image", $"'{value}' does not exist on the sandbox server. Pass an existing root filesystem folder (dir:/path) or an image archive made with `docker save IMAGE -o image.tar`.");
        }

        throw new InvalidRequestException("docker_image",
            $"Image '{dockerImage}' cannot be pulled: the local sandbox server has no registry access. Export it where Docker runs with `docker save {dockerImage} -o image.tar`, copy the file to this machine and pass its absolute path as docker_image (or dir:/path for an unpacked root filesystem).");
    }

    public async Task<ImportedImage?> ImportAsync(SnapshotSource source, string rootfs, CancellationToken cancellationToken)
    {
        if (!source.IsArchive)
        {
            try
            {
                await FileTree.CopyAsync(source.Path, rootfs, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw new SnapshotImportException(e.Message);
            }
            return null;
        }

        Directory.CreateDirectory(rootfs);
        string staging = rootfs + ".staging";
        Directory.CreateDirectory(staging);
        try
        {
            await ExtractArchiveFilesAsync(source.Path, staging, cancellationToken).ConfigureAwait(false);
            var (layers, configPath, digest) = ReadManifest(staging);
            using var root = RootedFileSystem.Open(rootfs);
            foreach (string layer in layers)
            {
                await ApplyLayerFileAsync(root, layer, cancellationToken).ConfigureAwait(false);
            }

            return new ImportedImage(configPath is null ? null : ReadRunConfig(File.ReadAllBytes(configPath)), digest);
        }
        finally
        {
            FileTree.Delete(staging);
        }
    }

    /// <summary>Extracts the regular files of the outer archive (manifest, config, layer blobs) into <paramref name="staging"/>.</summary>
    private static async Task ExtractArchiveFilesAsync(string archive, string staging, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(archive);
        using var root = RootedFileSystem.Open(staging);
        var reader = new TarReader(stream);
        try
        {
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                {
                    continue;
                }

                string? name = Normalize(entry.Name);
                if (name is null)
                {
                    continue;
                }

                using var handle = root.Create("/" + name);
                await using var output = new FileStream(handle, FileAccess.Write);
                await entry.DataStream.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (InvalidDataException e)
        {
            throw new SnapshotImportException($"'{archive}' is not a tar archive made by `docker save` or an OCI image layout: {e.Message}", e);
        }
    }

    private static (List<string> Layers, string? Config, string? Digest) ReadManifest(string staging)
    {
        string manifest = Path.Combine(staging, "manifest.json");
        if (File.Exists(manifest))
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(manifest));
            var first = doc.RootElement.EnumerateArray().FirstOrDefault();
            if (first.ValueKind != JsonValueKind.Object)
            {
                throw new SnapshotImportException("manifest.json of the archive lists no image");
            }

            var layers = first.GetProperty("Layers").EnumerateArray().Select(l => Inside(staging, l.GetString()!)).ToList();
            string? config = first.TryGetProperty("Config", out var c) ? Inside(staging, c.GetString()!) : null;
            string? digest = config is null ? null : "sha256:" + Path.GetFileName(config).Replace(".json", "", StringComparison.Ordinal);
            return (layers, config, digest);
        }

        string index = Path.Combine(staging, "index.json");
        if (!File.Exists(index))
        {
            throw new SnapshotImportException("The archive has neither manifest.json (docker save) nor index.json (OCI layout).");
        }

        string manifestDigest = FirstManifestDigest(staging, index);
        using var manifestDoc = JsonDocument.Parse(File.ReadAllBytes(Blob(staging, manifestDigest)));
        var layerList = manifestDoc.RootElement.GetProperty("layers").EnumerateArray()
            .Select(l => Blob(staging, l.GetProperty("digest").GetString()!)).ToList();
        string configDigest = manifestDoc.RootElement.GetProperty("config").GetProperty("digest").GetString()!;
        return (layerList, Blob(staging, configDigest), manifestDigest);
    }

    private static string FirstManifestDigest(string staging, string indexPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        foreach (var m in doc.RootElement.GetProperty("manifests").EnumerateArray())
        {
            string digest = m.GetProperty("digest").GetString()!;
            string mediaType = m.TryGetProperty("mediaType", out var mt) ? mt.GetString() ?? "" : "";
            if (mediaType.Contains("index", StringComparison.Ordinal) || mediaType.Contains("manifest.list", StringComparison.Ordinal))
            {
                return FirstManifestDigest(staging, Blob(staging, digest));
            }

            return digest;
        }

        throw new SnapshotImportException("index.json lists no manifest");
    }

    private static string Blob(string staging, string digest)
    {
        string[] parts = digest.Split(':', 2);
        if (parts.Length != 2 || parts[1].Any(c => !char.IsAsciiHexDigit(c)))
        {
            throw new SnapshotImportException($"Invalid digest '{digest}'");
        }

        return Inside(staging, $"blobs/{parts[0]}/{parts[1]}");
    }

    private static string Inside(string staging, string relative)
    {
        string? name = Normalize(relative) ?? throw new SnapshotImportException($"Invalid path '{relative}' in the image manifest");
        string full = Path.Combine(staging, name);
        if (!File.Exists(full))
        {
            throw new SnapshotImportException($"The archive is missing '{name}' referenced by its manifest");
        }

        return full;
    }

    /// <summary>USER, WORKDIR and ENV of an image config (null when it has none).</summary>
    internal static RunConfig? ReadRunConfig(byte[] imageConfig)
    {
        using var doc = JsonDocument.Parse(imageConfig);
        if (!doc.RootElement.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        Dictionary<string, string>? env = null;
        if (config.TryGetProperty("Env", out var envArray) && envArray.ValueKind == JsonValueKind.Array)
        {
            env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in envArray.EnumerateArray())
            {
                string pair = item.GetString() ?? "";
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    env[pair[..eq]] = pair[(eq + 1)..];
                }
            }
        }

        string? user = config.TryGetProperty("User", out var u) && u.GetString() is { Length: > 0 } us ? us : null;
        string? workDir = config.TryGetProperty("WorkingDir", out var w) && w.GetString() is { Length: > 0 } ws ? ws : null;
        return new RunConfig { User = user, WorkDir = workDir, EnvVars = env };
    }

    /// <summary>Applies one layer file (tar, gzip or zstd) with whiteouts, every entry resolved inside <paramref name="root"/>.</summary>
    internal async Task ApplyLayerFileAsync(RootedFileSystem root, string layerPath, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(layerPath);
        byte[] magic = new byte[4];
        int n = await file.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        file.Position = 0;
        Stream stream = file;
        if (n >= 2 && magic[0] == 0x1F && magic[1] == 0x8B)
        {
            stream = new GZipStream(file, CompressionMode.Decompress);
        }
        else if (n >= 4 && magic[0] == 0x28 && magic[1] == 0xB5 && magic[2] == 0x2F && magic[3] == 0xFD)
        {
            stream = new ZstdSharp.DecompressionStream(file);
        }

        await using (stream.ConfigureAwait(false))
        {
            var reader = new TarReader(stream);
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
            {
                try
                {
                    await ApplyEntryAsync(root, entry, cancellationToken).ConfigureAwait(false);
                }
                catch (BoxFileException e)
                {
                    Log.LayerEntrySkipped(_logger, entry.Name, e.Message);
                }
            }
        }
    }

    private static async Task ApplyEntryAsync(RootedFileSystem root, TarEntry entry, CancellationToken cancellationToken)
    {
        string? name = Normalize(entry.Name);
        if (name is null)
        {
            return;
        }

        string path = "/" + name;
        string baseName = Path.GetFileName(name);
        if (baseName.StartsWith(".wh.", StringComparison.Ordinal))
        {
            string dir = Path.GetDirectoryName(path) ?? "/";
            if (baseName == ".wh..wh..opq")
            {
                root.ClearDirectory(dir);
            }
            else
            {
                root.RemoveAll(Path.Combine(dir, baseName[4..]));
            }

            return;
        }

        uint mode = (uint)entry.Mode & 0xFFF;
        switch (entry.EntryType)
        {
            case TarEntryType.Directory:
                root.CreateDirectories(path, mode);
                using (var dir = root.OpenDirectory(path))
                {
                    LibC.Fchmod((int)dir.DangerousGetHandle(), mode);
                }

                break;
            case TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile:
                if (SafeIsDirectory(root, path))
                {
                    root.RemoveAll(path);
                }

                using (var handle = root.Create(path, mode))
                {
                    LibC.Fchmod((int)handle.DangerousGetHandle(), mode);
                    if (entry.DataStream is not null)
                    {
                        await using var output = new FileStream(handle, FileAccess.Write);
                        await entry.DataStream.CopyToAsync(output, cancellationToken).ConfigureAwait(false);
                    }
                }

                break;
            case TarEntryType.SymbolicLink:
                root.RemoveAll(path);
                root.CreateSymlink(path, entry.LinkName);
                break;
            case TarEntryType.HardLink:
                string? target = Normalize(entry.LinkName);
                if (target is not null)
                {
                    root.CreateHardLink(path, "/" + target);
                }

                return;
            case TarEntryType.Fifo:
                root.CreateFifo(path, mode);
                break;
            default:
                return; // devices and unknown entries are not materialised
        }

        root.SetOwnerAndTime(path, entry.Uid, entry.Gid, entry.ModificationTime);
    }

    private static bool SafeIsDirectory(RootedFileSystem root, string path)
    {
        try
        {
            using var parent = root.OpenParent(path, create: false, out string name);
            return LibC.Statx((int)parent.DangerousGetHandle(), name, LibC.AT_SYMLINK_NOFOLLOW, out var st) == 0 && st.IsDirectory;
        }
        catch (BoxFileException)
        {
            return false;
        }
    }

    /// <summary>Strips leading "./" and "/", rejects ".." components; null for the root itself or unsafe names.</summary>
    internal static string? Normalize(string name)
    {
        var parts = name.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).Where(p => p != ".").ToList();
        if (parts.Count == 0 || parts.Any(p => p == ".." || p.Contains('\0', StringComparison.Ordinal)))
        {
            return null;
        }

        return string.Join('/', parts);
    }
}
