using Sandbox.Protocol;
using Sandbox.Server.Errors;
using Sandbox.Server.Runtime;
using Sandbox.Server.Snapshots;
using Sandbox.Server.Snapshots.Registry;

namespace Sandbox.Server.Api;

/// <summary>Checks snapshot create and capture requests and turns them into the snapshot store's parameters.</summary>
/// <remarks>
/// Each failure is a 422 naming the offending field; the first failing field wins, in the order below. What depends on
/// the server's state (the local source exists and lies outside the data folder, the registry exists and serves the
/// image's host, the name is free) is checked by <see cref="SnapshotStore"/>.
/// </remarks>
internal static class SnapshotRequestValidator
{
    public static SnapshotCreateParameters Create(CreateSnapshotRequest request)
    {
        Name(request.Name);
        if (string.IsNullOrWhiteSpace(request.DockerImage))
        {
            throw new InvalidRequestException("docker_image", "docker_image is required");
        }

        if (request.FsCapacityBytes < 0)
        {
            throw new InvalidRequestException("fs_capacity_bytes", "fs_capacity_bytes must be >= 0");
        }

        RunConfigs.Validate(request.RunConfig, "run_config");
        ImageReference? image = null;
        if (SnapshotImporter.IsLocalSource(request.DockerImage))
        {
            if (request.RegistryId is not null)
            {
                throw new InvalidRequestException("registry_id", "registry_id applies to registry images only; docker_image names a local folder or archive");
            }
        }
        else
        {
            string text = request.DockerImage.Trim();
            if (!ImageReference.TryParse(text, out image, out string? error))
            {
                throw new InvalidRequestException("docker_image",
                    $"'{text}' is neither a local path (absolute, or dir:/path) nor an image reference ([host[:port]/]repository[:tag][@sha256:…]): {error}");
            }
        }

        return new SnapshotCreateParameters
        {
            Name = request.Name,
            DockerImage = request.DockerImage,
            Image = image,
            RegistryId = request.RegistryId,
            FsCapacityBytes = request.FsCapacityBytes,
            RunConfig = request.RunConfig,
        };
    }

    /// <summary>A snapshot name: 1 to 128 characters without '/' or control characters.</summary>
    public static string Name(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new InvalidRequestException("name", "name is required");
        }

        if (name.Length > 128 || name.Any(c => char.IsControl(c) || c == '/'))
        {
            throw new InvalidRequestException("name", "name must be at most 128 characters without '/' or control characters");
        }

        return name;
    }
}
