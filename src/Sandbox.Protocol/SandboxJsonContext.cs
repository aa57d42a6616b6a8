using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Protocol;

/// <summary>Source-generated serialization metadata for every JSON shape of the protocol.</summary>
/// <remarks>Use it through <see cref="SandboxJson.Options"/>, which adds the relaxed encoder the wire uses; the options
/// here (snake_case, nulls omitted, strict numbers) are the same as there.</remarks>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(AccessControl))]
[JsonSerializable(typeof(AccessDelegation))]
[JsonSerializable(typeof(AwsAuth))]
[JsonSerializable(typeof(CaptureSnapshotRequest))]
[JsonSerializable(typeof(CreateSandboxRequest))]
[JsonSerializable(typeof(CreateSnapshotRequest))]
[JsonSerializable(typeof(DownloadUrlInfo))]
[JsonSerializable(typeof(DownloadUrlRequest))]
[JsonSerializable(typeof(ErrorDetail))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(ExecuteRequest))]
[JsonSerializable(typeof(ExecuteResponse))]
[JsonSerializable(typeof(ExecutionClientFrame))]
[JsonSerializable(typeof(ExecutionServerFrame))]
[JsonSerializable(typeof(GcpAuth))]
[JsonSerializable(typeof(GlobRequest))]
[JsonSerializable(typeof(GlobResponse))]
[JsonSerializable(typeof(GrepRequest))]
[JsonSerializable(typeof(GrepResponse))]
[JsonSerializable(typeof(MountAuth))]
[JsonSerializable(typeof(MountConfig))]
[JsonSerializable(typeof(MountSpec))]
[JsonSerializable(typeof(ProxyConfig))]
[JsonSerializable(typeof(ProxyRule))]
[JsonSerializable(typeof(RegistryInfo))]
[JsonSerializable(typeof(RegistryList))]
[JsonSerializable(typeof(RegistryRequest))]
[JsonSerializable(typeof(RunConfig))]
[JsonSerializable(typeof(SandboxInfo))]
[JsonSerializable(typeof(SandboxList))]
[JsonSerializable(typeof(SandboxStatusInfo))]
[JsonSerializable(typeof(SecretValue))]
[JsonSerializable(typeof(ServiceUrlInfo))]
[JsonSerializable(typeof(ServiceUrlRequest))]
[JsonSerializable(typeof(SnapshotInfo))]
[JsonSerializable(typeof(SnapshotList))]
[JsonSerializable(typeof(UpdateSandboxRequest))]
[JsonSerializable(typeof(UploadResponse))]
[JsonSerializable(typeof(IReadOnlyList<ValidationErrorItem>))]
[JsonSerializable(typeof(IReadOnlyList<SandboxInfo>))]
[JsonSerializable(typeof(IReadOnlyList<SnapshotInfo>))]
[JsonSerializable(typeof(IReadOnlyList<RegistryInfo>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<ProxyHeader>))]
[JsonSerializable(typeof(string))]
public sealed partial class SandboxJsonContext : JsonSerializerContext;
