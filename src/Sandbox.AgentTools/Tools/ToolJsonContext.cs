using System.Text.Json.Serialization;

namespace Sandbox.AgentTools;

/// <summary>Source-generated JSON for everything the tools serialize (snake_case, nulls omitted).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DriverRequest))]
[JsonSerializable(typeof(DriverStatus))]
[JsonSerializable(typeof(RunCodeResult))]
[JsonSerializable(typeof(WriteFileResult))]
[JsonSerializable(typeof(ReadFileResult))]
[JsonSerializable(typeof(ListFilesResult))]
[JsonSerializable(typeof(ExposePortResult))]
[JsonSerializable(typeof(ToolError))]
[JsonSerializable(typeof(RunCodeArguments))]
[JsonSerializable(typeof(WriteFileArguments))]
[JsonSerializable(typeof(ReadFileArguments))]
[JsonSerializable(typeof(ListFilesArguments))]
[JsonSerializable(typeof(ExposePortArguments))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
internal sealed partial class ToolJsonContext : JsonSerializerContext;
