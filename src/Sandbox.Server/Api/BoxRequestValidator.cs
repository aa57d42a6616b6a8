using System.Text.RegularExpressions;
using Sandbox.Protocol;
using Sandbox.Server.Errors;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Api;

/// <summary>Checks box create and update requests and turns them into the runtime's parameter objects.</summary>
/// <remarks>Each failure is a 422 naming the offending field; the first failing field wins, in the order below.</remarks>
internal static partial class BoxRequestValidator
{
    private const long MinMemoryBytes = 16L * 1024 * 1024;
    private const long MaxMemoryBytes = 64L * 1024 * 1024 * 1024;
    private const long MinFsCapacityBytes = 32L * 1024 * 1024;
    private const string NameRule = "name must be 1-128 characters of letters, digits, '.', '_' or '-', starting and ending with a letter or digit";

    [GeneratedRegex("^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,126}[a-zA-Z0-9])?$")]
    private static partial Regex NamePattern();

    public static BoxCreateParameters Create(CreateSandboxRequest request)
    {
        if (request.SnapshotId is { Length: > 0 } && request.SnapshotName is { Length: > 0 })
        {
            throw new InvalidRequestException("snapshot_id", "At most one of snapshot_id or snapshot_name may be set");
        }

        if (request.Name is { Length: > 0 } name && !NamePattern().IsMatch(name))
        {
            throw new InvalidRequestException("name", NameRule);
        }

        ValidateRetention(request.IdleTtlSeconds, "idle_ttl_seconds");
        ValidateRetention(request.DeleteAfterStopSeconds, "delete_after_stop_seconds");
        ValidateVcpus(request.Vcpus);
        ValidateMemory(request.MemBytes);
        if (request.FsCapacityBytes is { } fs && fs < MinFsCapacityBytes)
        {
            throw new InvalidRequestException("fs_capacity_bytes", $"fs_capacity_bytes must be at least {MinFsCapacityBytes}");
        }

        if (request.MountConfig is { } mounts && (mounts.Mounts.Count > 0 || mounts.Auth.Aws is not null || mounts.Auth.Gcp is not null))
        {
            throw new InvalidRequestException("mount_config",
                "mount_config is not supported by the local sandbox server: S3, GCS, git and Context Hub mounts need network access and provider credentials it does not have. Upload the files with the file API instead.");
        }

        if (request.RestoreMemory == true)
        {
            throw new InvalidRequestException("restore_memory", "restore_memory=true is not supported by the local sandbox server: its snapshots never hold memory (boxes always cold-boot)");
        }

        if (request.PreserveMemoryOnStop == true)
        {
            throw new InvalidRequestException("preserve_memory_on_stop", "preserve_memory_on_stop=true is not supported by the local sandbox server: stopping a box ends its processes; files persist");
        }

        if (request.AccessDelegation is not null)
        {
            throw new InvalidRequestException("access_delegation", "access_delegation is not supported by the local sandbox server: it has no LangSmith identity to delegate");
        }

        RunConfigs.Validate(request.RunConfig, "run_config");
        return new BoxCreateParameters
        {
            Name = request.Name,
            Snapshot = request.SnapshotId is { Length: > 0 } id ? id : request.SnapshotName is { Length: > 0 } snapshotName ? snapshotName : null,
            IdleTtlSeconds = request.IdleTtlSeconds,
            DeleteAfterStopSeconds = request.DeleteAfterStopSeconds,
            Vcpus = request.Vcpus,
            MemBytes = request.MemBytes,
            FsCapacityBytes = request.FsCapacityBytes,
            Labels = request.Labels,
            ProxyConfig = request.ProxyConfig,
            RunConfig = request.RunConfig,
            Persistent = request.Persistent ?? true,
            WaitForReady = request.WaitForReady,
            ReadyTimeoutSeconds = request.Timeout is > 0 ? request.Timeout.Value : 30,
        };
    }

    public static BoxUpdateParameters Update(UpdateSandboxRequest request)
    {
        ValidateRetention(request.IdleTtlSeconds, "idle_ttl_seconds");
        ValidateRetention(request.DeleteAfterStopSeconds, "delete_after_stop_seconds");
        RunConfigs.Validate(request.RunConfig, "run_config");
        ValidateVcpus(request.Vcpus);
        ValidateMemory(request.MemBytes);
        if (request.Name is { } name && !NamePattern().IsMatch(name))
        {
            throw new InvalidRequestException("name", NameRule);
        }

        return new BoxUpdateParameters
        {
            Name = request.Name,
            IdleTtlSeconds = request.IdleTtlSeconds,
            DeleteAfterStopSeconds = request.DeleteAfterStopSeconds,
            ProxyConfig = request.ProxyConfig,
            RunConfig = request.RunConfig,
            Vcpus = request.Vcpus,
            MemBytes = request.MemBytes,
        };
    }

    private static void ValidateRetention(int? value, string field)
    {
        if (value is { } v && (v < 0 || v % 60 != 0))
        {
            throw new InvalidRequestException(field, $"{field} must be >= 0 and a multiple of 60 seconds");
        }
    }

    private static void ValidateVcpus(int? vcpus)
    {
        if (vcpus is { } v && (v < 1 || v > 64))
        {
            throw new InvalidRequestException("vcpus", "vcpus must be between 1 and 64");
        }
    }

    private static void ValidateMemory(long? memBytes)
    {
        if (memBytes is { } mem && (mem < MinMemoryBytes || mem > MaxMemoryBytes))
        {
            throw new InvalidRequestException("mem_bytes", $"mem_bytes must be between {MinMemoryBytes} and 64 GiB");
        }
    }
}
