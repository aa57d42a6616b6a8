using System.Text.Json;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Mount helpers (spec §7.6–7.7, delta §8).</summary>
public static partial class SandboxConfig
{
    private static readonly string[] CredentialKeys =
        ["access_key_id", "secret_access_key", "session_token", "service_account_json", "access_token", "refresh_token", "credentials", "credential"];

    private static readonly string[] MountTypes = ["s3", "gcs", "git", "contexthub"];

    /// <summary>AWS credentials for S3 mounts (<c>mount_config.auth.aws</c>).</summary>
    /// <param name="accessKeyId">Access key id (workspace or opaque secret).</param>
    /// <param name="secretAccessKey">Secret access key (workspace or opaque secret).</param>
    /// <returns>An auth block to pass to <see cref="MountConfig"/>.</returns>
    public static MountAuth AwsMountAuth(SecretValue accessKeyId, SecretValue secretAccessKey)
    {
        RequireSecret(accessKeyId, nameof(accessKeyId));
        RequireSecret(secretAccessKey, nameof(secretAccessKey));
        return new MountAuth { Aws = new Protocol.AwsAuth { AccessKeyId = accessKeyId, SecretAccessKey = secretAccessKey } };
    }

    /// <summary>AWS IAM-role auth for S3 mounts: <c>{"role_arn": …}</c> only (no session tags in mount auth).</summary>
    /// <param name="roleArn">The role ARN.</param>
    /// <returns>An auth block to pass to <see cref="MountConfig"/>.</returns>
    public static MountAuth AwsMountRoleAuth(string roleArn)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(roleArn);
        return new MountAuth { Aws = new Protocol.AwsAuth { RoleArn = roleArn } };
    }

    /// <summary>GCP credentials for GCS mounts (<c>mount_config.auth.gcp</c>; no scopes).</summary>
    /// <param name="serviceAccountJson">The service-account JSON (workspace or opaque secret).</param>
    /// <returns>An auth block to pass to <see cref="MountConfig"/>.</returns>
    public static MountAuth GcpMountAuth(SecretValue serviceAccountJson)
    {
        RequireSecret(serviceAccountJson, nameof(serviceAccountJson));
        return new MountAuth { Gcp = new Protocol.GcpAuth { ServiceAccountJson = serviceAccountJson } };
    }

    /// <summary>An S3 bucket mount. Always emits <c>endpoint_url</c>, <c>region</c>, <c>bucket</c> and <c>path_style</c>.</summary>
    /// <param name="id">Stable mount id.</param>
    /// <param name="mountPath">Absolute path in the sandbox (e.g. under <c>/mnt/mounts</c>).</param>
    /// <param name="bucket">Bucket name.</param>
    /// <param name="region">Region (default <c>us-east-1</c>).</param>
    /// <param name="endpointUrl">Endpoint (default <c>https://s3.amazonaws.com</c>).</param>
    /// <param name="pathStyle">Path-style addressing (default false).</param>
    /// <param name="prefix">Key prefix.</param>
    /// <param name="readOnly">Mount read-only.</param>
    /// <param name="cacheMaxSizeBytes">VFS cache size.</param>
    /// <param name="cacheWritebackSeconds">VFS write-back delay.</param>
    /// <param name="kmsKey">KMS key ARN for SSE-KMS uploads (delta §8).</param>
    /// <returns>The mount.</returns>
    public static MountSpec S3Mount(string id, string mountPath, string bucket, string region = "us-east-1", string endpointUrl = "https://s3.amazonaws.com",
        bool pathStyle = false, string? prefix = null, bool? readOnly = null, long? cacheMaxSizeBytes = null, int? cacheWritebackSeconds = null, string? kmsKey = null)
    {
        CheckMountBasics(id, mountPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        ArgumentException.ThrowIfNullOrWhiteSpace(region);
        if (kmsKey is not null && string.IsNullOrWhiteSpace(kmsKey))
        {
            throw new ArgumentException("encryption.kms_key must be non-empty", nameof(kmsKey));
        }

        var s3 = new Dictionary<string, object?> { ["endpoint_url"] = endpointUrl, ["region"] = region, ["bucket"] = bucket };
        if (prefix is not null)
        {
            s3["prefix"] = prefix;
        }

        s3["path_style"] = pathStyle;
        var extra = kmsKey is null ? null : new Dictionary<string, JsonElement> { ["encryption"] = Element(new Dictionary<string, object?> { ["kms_key"] = kmsKey }) };
        return new MountSpec
        {
            Id = id,
            Type = "s3",
            MountPath = mountPath,
            ReadOnly = readOnly,
            Cache = Cache(cacheMaxSizeBytes, cacheWritebackSeconds),
            S3 = Element(s3),
            AdditionalProperties = extra,
        };
    }

    /// <summary>A Google Cloud Storage bucket mount.</summary>
    /// <param name="id">Stable mount id.</param>
    /// <param name="mountPath">Absolute path in the sandbox.</param>
    /// <param name="bucket">Bucket name.</param>
    /// <param name="prefix">Object prefix.</param>
    /// <param name="readOnly">Mount read-only.</param>
    /// <param name="cacheMaxSizeBytes">VFS cache size.</param>
    /// <param name="cacheWritebackSeconds">VFS write-back delay.</param>
    /// <returns>The mount.</returns>
    public static MountSpec GcsMount(string id, string mountPath, string bucket, string? prefix = null, bool? readOnly = null, long? cacheMaxSizeBytes = null, int? cacheWritebackSeconds = null)
    {
        CheckMountBasics(id, mountPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(bucket);
        var gcs = new Dictionary<string, object?> { ["bucket"] = bucket };
        if (prefix is not null)
        {
            gcs["prefix"] = prefix;
        }

        return new MountSpec { Id = id, Type = "gcs", MountPath = mountPath, ReadOnly = readOnly, Cache = Cache(cacheMaxSizeBytes, cacheWritebackSeconds), Gcs = Element(gcs) };
    }

    /// <summary>A public Git repository mount (private repositories via explicit proxy rules).</summary>
    /// <param name="id">Stable mount id.</param>
    /// <param name="mountPath">Absolute path in the sandbox.</param>
    /// <param name="remoteUrl">Absolute https URL with a host and a non-root path, no credentials, query, fragment,
    /// whitespace or NUL.</param>
    /// <param name="refType"><c>branch</c> or <c>tag</c> (with <paramref name="refName"/>).</param>
    /// <param name="refName">Branch or tag name.</param>
    /// <param name="refreshIntervalSeconds">Refresh interval (≥ 1).</param>
    /// <returns>The mount.</returns>
    public static MountSpec GitMount(string id, string mountPath, string remoteUrl, string? refType = null, string? refName = null, int? refreshIntervalSeconds = null)
    {
        CheckMountBasics(id, mountPath);
        CheckGitUrl(remoteUrl);
        var git = new Dictionary<string, object?> { ["remote_url"] = remoteUrl };
        if (refType is not null || refName is not null)
        {
            if (refType is not ("branch" or "tag"))
            {
                throw new ArgumentException("git ref type must be 'branch' or 'tag'", nameof(refType));
            }

            if (string.IsNullOrWhiteSpace(refName))
            {
                throw new ArgumentException("git ref name must be non-empty", nameof(refName));
            }

            git["ref"] = new Dictionary<string, object?> { ["type"] = refType, ["name"] = refName };
        }

        if (refreshIntervalSeconds is { } refresh)
        {
            if (refresh < 1)
            {
                throw new ArgumentException("refresh_interval_seconds must be >= 1", nameof(refreshIntervalSeconds));
            }

            git["refresh_interval_seconds"] = refresh;
        }

        return new MountSpec { Id = id, Type = "git", MountPath = mountPath, Git = Element(git) };
    }

    /// <summary>A read-only mirror of a LangSmith Context Hub repository (<c>owner/repo</c>; <c>-</c> = current workspace).</summary>
    /// <param name="id">Stable mount id.</param>
    /// <param name="mountPath">Absolute path in the sandbox.</param>
    /// <param name="repo">The repository, e.g. <c>-/my-agent</c>.</param>
    /// <param name="initialPullOnly">Sync once at start instead of polling.</param>
    /// <returns>The mount.</returns>
    public static MountSpec ContextHubMount(string id, string mountPath, string repo, bool? initialPullOnly = null)
    {
        CheckMountBasics(id, mountPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(repo);
        var hub = new Dictionary<string, object?> { ["repo"] = repo };
        if (initialPullOnly is { } once)
        {
            hub["initial_pull_only"] = once;
        }

        return new MountSpec { Id = id, Type = "contexthub", MountPath = mountPath, Contexthub = Element(hub) };
    }

    /// <summary>
    /// Composes <c>{"auth":{…},"mounts":[…]}</c> with the SDKs' checks: at least one mount of a known type; one auth block per
    /// provider; AWS auth iff an S3 mount exists (unless <paramref name="proxyConfig"/> has an enabled <c>aws</c> rule) and
    /// GCP auth iff a GCS mount exists; no credential keys inside a mount; no provider in both places.
    /// </summary>
    /// <param name="mounts">The mounts.</param>
    /// <param name="auth">Provider auth blocks from <see cref="AwsMountAuth"/>/<see cref="GcpMountAuth"/>.</param>
    /// <param name="proxyConfig">The proxy configuration that will be passed to create, if any.</param>
    /// <returns>The mount configuration.</returns>
    public static MountConfig MountConfig(IEnumerable<MountSpec> mounts, IEnumerable<MountAuth>? auth = null, ProxyConfig? proxyConfig = null)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        var list = mounts.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("mount_config requires at least one mount", nameof(mounts));
        }

        var merged = new MountAuth();
        foreach (var block in auth ?? [])
        {
            if (block.Aws is not null)
            {
                if (merged.Aws is not null)
                {
                    throw new ArgumentException("duplicate aws auth in mount_config", nameof(auth));
                }

                if (block.Aws.SessionTags is { Count: > 0 })
                {
                    throw new ArgumentException("session_tags are not supported in mount auth", nameof(auth));
                }

                merged = merged with { Aws = block.Aws };
            }

            if (block.Gcp is not null)
            {
                if (merged.Gcp is not null)
                {
                    throw new ArgumentException("duplicate gcp auth in mount_config", nameof(auth));
                }

                merged = merged with { Gcp = block.Gcp };
            }
        }

        foreach (var mount in list)
        {
            if (!MountTypes.Contains(mount.Type))
            {
                throw new ArgumentException($"unsupported mount type '{mount.Type}'", nameof(mounts));
            }

            if (FindCredentialKey(JsonSerializer.SerializeToElement(mount, SandboxJson.Options)) is { } key)
            {
                throw new ArgumentException($"mount '{mount.Id}' contains credential field '{key}'; credentials belong in mount_config.auth", nameof(mounts));
            }
        }

        var hasS3 = list.Any(m => m.Type == "s3");
        var hasGcs = list.Any(m => m.Type == "gcs");
        var proxyAws = proxyConfig?.Rules?.Any(r => r.Type == "aws" && r.Enabled != false) == true;
        if (hasS3 && merged.Aws is null && !proxyAws)
        {
            throw new ArgumentException("s3 mounts require aws auth in mount_config (or an enabled aws proxy rule)", nameof(auth));
        }

        if (!hasS3 && merged.Aws is not null)
        {
            throw new ArgumentException("aws auth given but no s3 mount uses it", nameof(auth));
        }

        if (hasGcs && merged.Gcp is null)
        {
            throw new ArgumentException("gcs mounts require gcp auth in mount_config", nameof(auth));
        }

        if (!hasGcs && merged.Gcp is not null)
        {
            throw new ArgumentException("gcp auth given but no gcs mount uses it", nameof(auth));
        }

        var config = new MountConfig { Auth = merged, Mounts = list };
        if (proxyConfig is not null)
        {
            try
            {
                CheckProviderConflict(config, proxyConfig);
            }
            catch (SandboxValidationException ex)
            {
                throw new ArgumentException(ex.Message, nameof(proxyConfig), ex);
            }
        }

        return config;
    }

    private static string? FindCredentialKey(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (CredentialKeys.Contains(property.Name))
                    {
                        return property.Name;
                    }

                    if (FindCredentialKey(property.Value) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (FindCredentialKey(item) is { } nested)
                    {
                        return nested;
                    }
                }

                return null;
            default:
                return null;
        }
    }

    private static void CheckMountBasics(string id, string mountPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        if (string.IsNullOrWhiteSpace(mountPath) || !mountPath.StartsWith('/'))
        {
            throw new ArgumentException("mount_path must be an absolute path", nameof(mountPath));
        }
    }

    private static void CheckGitUrl(string remoteUrl)
    {
        if (string.IsNullOrEmpty(remoteUrl) || remoteUrl.Any(c => char.IsWhiteSpace(c) || c == '\0'))
        {
            throw new ArgumentException("git remote_url must be a non-empty URL without whitespace or NUL", nameof(remoteUrl));
        }

        if (!Uri.TryCreate(remoteUrl, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException("git remote_url must be an absolute https URL", nameof(remoteUrl));
        }

        if (!string.IsNullOrEmpty(uri.UserInfo) || remoteUrl.Contains('@', StringComparison.Ordinal))
        {
            throw new ArgumentException("git remote_url must not embed credentials", nameof(remoteUrl));
        }

        if (uri.AbsolutePath is "" or "/")
        {
            throw new ArgumentException("git remote_url must include a repository path", nameof(remoteUrl));
        }

        if (remoteUrl.Contains('?', StringComparison.Ordinal) || remoteUrl.Contains('#', StringComparison.Ordinal))
        {
            throw new ArgumentException("git remote_url must not have a query or fragment", nameof(remoteUrl));
        }
    }

    private static JsonElement? Cache(long? maxSizeBytes, int? writebackSeconds)
    {
        if (maxSizeBytes is null && writebackSeconds is null)
        {
            return null;
        }

        var cache = new Dictionary<string, object?>();
        if (maxSizeBytes is { } size)
        {
            cache["max_size_bytes"] = size;
        }

        if (writebackSeconds is { } seconds)
        {
            cache["writeback_seconds"] = seconds;
        }

        return Element(cache);
    }

    private static JsonElement Element(Dictionary<string, object?> value) => JsonSerializer.SerializeToElement(value, SandboxJson.Options);
}
