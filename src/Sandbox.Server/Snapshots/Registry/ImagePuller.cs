using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Sandbox.Server.Files;

namespace Sandbox.Server.Snapshots.Registry;

/// <summary>
/// Pulls an image from an OCI distribution / Docker Registry v2 server into a root filesystem: resolves image indexes and
/// manifest lists to linux/amd64, verifies every manifest and blob against its digest while it streams, keeps layers in
/// a cache by digest (<c>DATA/layers/sha256/…</c>, shared by all snapshots) and applies them with whiteouts.
/// </summary>
/// <remarks>Thread-safe: concurrent pulls of one layer each download to their own temporary file and rename.</remarks>
internal sealed class ImagePuller
{
    internal const string OciIndex = "application/vnd.oci.image.index.v1+json";
    internal const string DockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
    internal const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    internal const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    private const int MaxMetadataBytes = 4 * 1024 * 1024;
    private static readonly string ManifestAccept = string.Join(", ", OciIndex, DockerList, OciManifest, DockerManifest);

    private readonly HttpClient _http;
    private readonly string _cache;
    private readonly long _maxLayerBytes;
    private readonly SnapshotImporter _importer;

    public ImagePuller(HttpClient http, string layerCache, long maxLayerBytes, SnapshotImporter importer)
    {
        _http = http;
        _cache = layerCache;
        _maxLayerBytes = maxLayerBytes;
        _importer = importer;
        Directory.CreateDirectory(Path.Combine(_cache, "sha256"));
    }

    /// <summary>The cached file of a verified blob (exists only after a complete, verified download).</summary>
    public string CachedLayerPath(string digest) => Path.Combine(_cache, "sha256", Hex(digest));

    /// <summary>Pulls <paramref name="image"/> into <paramref name="rootfs"/> (created; the caller deletes it on failure).</summary>
    /// <param name="image">The reference.</param>
    /// <param name="registry">Stored credentials for the image's registry, or null (anonymous).</param>
    /// <param name="rootfs">The folder to build.</param>
    /// <param name="progress">Receives a short progress line now and then.</param>
    /// <param name="cancellationToken">Cancels the pull.</param>
    public async Task<ImportedImage> PullAsync(ImageReference image, RegistryRecord? registry, string rootfs, Action<string> progress, CancellationToken cancellationToken)
    {
        var endpoint = registry is not null ? RegistryEndpoint.Parse(registry.Url) with { Host = image.ApiHost }
            : new RegistryEndpoint(image.IsLoopback ? "http" : "https", image.ApiHost);
        var client = new RegistryClient(_http, endpoint, image.Repository, registry?.Username, registry?.Password,
            registry is null ? "no registry" : $"registry '{registry.Name}'");
        progress($"Pulling {image}: resolving the manifest");
        var (manifest, mediaType, digest) = await FetchManifestAsync(client, image.Reference, image.Digest, cancellationToken).ConfigureAwait(false);
        if (mediaType is OciIndex or DockerList)
        {
            string chosen = ChoosePlatform(manifest, image);
            (manifest, mediaType, digest) = await FetchManifestAsync(client, chosen, chosen, cancellationToken).ConfigureAwait(false);
        }

        if (mediaType is not (OciManifest or DockerManifest))
        {
            throw new RegistryPullException(RegistryPullError.Unsupported, $"{image} has a manifest of type '{mediaType}'; only OCI and Docker v2 (schema 2) images are supported");
        }

        var (config, layers) = ParseManifest(manifest, image);
        byte[] configBytes = await FetchBlobBytesAsync(client, config, cancellationToken).ConfigureAwait(false);
        var files = new List<string>();
        long total = layers.Sum(l => l.Size);
        long done = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            int index = i + 1;
            long before = done;
            files.Add(await EnsureLayerAsync(client, layer, bytes =>
                progress(string.Create(CultureInfo.InvariantCulture, $"Pulling {image}: layer {index}/{layers.Count} ({Mb(before + bytes)} of {Mb(total)} MB)")), cancellationToken).ConfigureAwait(false));
            done += layer.Size;
        }

        progress($"Pulling {image}: unpacking {layers.Count} layer(s)");
        Directory.CreateDirectory(rootfs);
        using (var root = RootedFileSystem.Open(rootfs))
        {
            foreach (string file in files)
            {
                await _importer.ApplyLayerFileAsync(root, file, cancellationToken).ConfigureAwait(false);
            }
        }

        return new ImportedImage(SnapshotImporter.ReadRunConfig(configBytes), digest);
    }

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);

    private static async Task<(byte[] Body, string MediaType, string Digest)> FetchManifestAsync(RegistryClient client, string reference, string? expectedDigest, CancellationToken cancellationToken)
    {
        string what = expectedDigest is null ? $"tag '{reference}'" : $"manifest {reference}";
        using var response = await client.GetAsync("manifests/" + reference, ManifestAccept, what, cancellationToken).ConfigureAwait(false);
        byte[] body = await RegistryClient.ReadLimitedAsync(response, MaxMetadataBytes, cancellationToken).ConfigureAwait(false);
        string digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));
        if (expectedDigest is not null && digest != expectedDigest)
        {
            throw new RegistryPullException(RegistryPullError.DigestMismatch, $"The manifest served for {expectedDigest} has digest {digest}");
        }

        if (response.Headers.TryGetValues("Docker-Content-Digest", out var headerDigests) && headerDigests.FirstOrDefault() is { } announced
            && announced.StartsWith("sha256:", StringComparison.Ordinal) && announced != digest)
        {
            throw new RegistryPullException(RegistryPullError.DigestMismatch, $"The manifest of {what} has digest {digest}, not the announced {announced}");
        }

        string? mediaType = response.Content.Headers.ContentType?.MediaType;
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("mediaType", out var mt) && mt.GetString() is { Length: > 0 } declared)
            {
                mediaType = declared;
            }
            else if (mediaType is null or "application/json" or "text/plain")
            {
                mediaType = doc.RootElement.TryGetProperty("manifests", out _) ? OciIndex : OciManifest;
            }

            if (doc.RootElement.TryGetProperty("schemaVersion", out var sv) && sv.ValueKind == JsonValueKind.Number && sv.GetInt32() == 1)
            {
                throw new RegistryPullException(RegistryPullError.Unsupported, $"The manifest of {what} is Docker schema 1, which is not supported (push it again with a current tool)");
            }
        }
        catch (JsonException e)
        {
            throw new RegistryPullException(RegistryPullError.Unsupported, $"The manifest of {what} is not JSON: {e.Message}", e);
        }

        return (body, mediaType, digest);
    }

    private static string ChoosePlatform(byte[] index, ImageReference image)
    {
        using var doc = JsonDocument.Parse(index);
        var platforms = new List<string>();
        foreach (var m in doc.RootElement.GetProperty("manifests").EnumerateArray())
        {
            if (!m.TryGetProperty("platform", out var p))
            {
                continue;
            }

            string os = p.TryGetProperty("os", out var o) ? o.GetString() ?? "" : "";
            string arch = p.TryGetProperty("architecture", out var a) ? a.GetString() ?? "" : "";
            platforms.Add(os + "/" + arch);
            if (os == "linux" && arch == "amd64" && m.TryGetProperty("digest", out var d) && d.GetString() is { } digest)
            {
                return ValidDigest(digest);
            }
        }

        throw new RegistryPullException(RegistryPullError.Unsupported,
            $"{image} has no linux/amd64 image (it has: {(platforms.Count == 0 ? "none" : string.Join(", ", platforms.Distinct()))})");
    }

    internal sealed record Descriptor(string MediaType, string Digest, long Size);

    private (Descriptor Config, List<Descriptor> Layers) ParseManifest(byte[] manifest, ImageReference image)
    {
        try
        {
            using var doc = JsonDocument.Parse(manifest);
            var config = ReadDescriptor(doc.RootElement.GetProperty("config"));
            var layers = doc.RootElement.GetProperty("layers").EnumerateArray().Select(ReadDescriptor).ToList();
            foreach (var layer in layers)
            {
                if (!layer.MediaType.Contains("tar", StringComparison.Ordinal))
                {
                    throw new RegistryPullException(RegistryPullError.Unsupported, $"{image} has a layer of type '{layer.MediaType}', which is not a tar layer");
                }

                if (layer.Size > _maxLayerBytes)
                {
                    throw new RegistryPullException(RegistryPullError.TooLarge,
                        $"{image} has a layer of {layer.Size} bytes ({layer.Digest}), larger than the server's limit of {_maxLayerBytes} bytes (SandboxServerOptions.MaxImageLayerBytes)");
                }
            }

            return (config, layers);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or JsonException)
        {
            throw new RegistryPullException(RegistryPullError.Unsupported, $"The manifest of {image} is malformed: {e.Message}", e);
        }
    }

    private static Descriptor ReadDescriptor(JsonElement element) => new(
        element.TryGetProperty("mediaType", out var mt) ? mt.GetString() ?? "" : "",
        ValidDigest(element.GetProperty("digest").GetString() ?? ""),
        element.GetProperty("size").GetInt64());

    private static string ValidDigest(string digest)
    {
        if (!digest.StartsWith("sha256:", StringComparison.Ordinal) || digest.Length != 71 || digest.AsSpan(7).ContainsAnyExcept("0123456789abcdef"))
        {
            throw new RegistryPullException(RegistryPullError.Unsupported, $"'{digest}' is not a sha256 digest (only sha256 is supported)");
        }

        return digest;
    }

    private static string Hex(string digest) => ValidDigest(digest)[7..];

    private static async Task<byte[]> FetchBlobBytesAsync(RegistryClient client, Descriptor blob, CancellationToken cancellationToken)
    {
        if (blob.Size > MaxMetadataBytes)
        {
            throw new RegistryPullException(RegistryPullError.TooLarge, $"The image config {blob.Digest} is {blob.Size} bytes, over the {MaxMetadataBytes}-byte limit");
        }

        using var response = await client.GetAsync("blobs/" + blob.Digest, null, $"the image config {blob.Digest}", cancellationToken).ConfigureAwait(false);
        byte[] body = await RegistryClient.ReadLimitedAsync(response, MaxMetadataBytes, cancellationToken).ConfigureAwait(false);
        string digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));
        if (digest != blob.Digest)
        {
            throw new RegistryPullException(RegistryPullError.DigestMismatch, $"The image config downloaded for {blob.Digest} has digest {digest}");
        }

        return body;
    }

    /// <summary>Returns the cached layer, downloading (and verifying while streaming) it first when missing.</summary>
    private async Task<string> EnsureLayerAsync(RegistryClient client, Descriptor layer, Action<long> progress, CancellationToken cancellationToken)
    {
        string final = CachedLayerPath(layer.Digest);
        if (File.Exists(final))
        {
            progress(layer.Size);
            return final;
        }

        string temp = Path.Combine(_cache, "tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var response = await client.GetAsync("blobs/" + layer.Digest, null, $"layer {layer.Digest}", cancellationToken).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength is { } length && length != layer.Size)
            {
                throw new RegistryPullException(length > _maxLayerBytes ? RegistryPullError.TooLarge : RegistryPullError.DigestMismatch,
                    $"Layer {layer.Digest} is served with {length} bytes, but the manifest says {layer.Size}");
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long received = 0;
            long reported = 0;
            await using (var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                byte[] buffer = new byte[1 << 16];
                int n;
                while ((n = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    received += n;
                    if (received > layer.Size)
                    {
                        throw new RegistryPullException(received > _maxLayerBytes ? RegistryPullError.TooLarge : RegistryPullError.DigestMismatch,
                            $"Layer {layer.Digest} is longer than the {layer.Size} bytes its manifest announces");
                    }

                    hash.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    if (received - reported >= 4 * 1048576)
                    {
                        reported = received;
                        progress(received);
                    }
                }
            }

            string actual = "sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset());
            if (received != layer.Size || actual != layer.Digest)
            {
                throw new RegistryPullException(RegistryPullError.DigestMismatch,
                    $"Layer {layer.Digest} failed verification: received {received} of {layer.Size} bytes with digest {actual}");
            }

            File.Move(temp, final, overwrite: true);
            progress(layer.Size);
            return final;
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
