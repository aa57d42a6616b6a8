using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Sandbox.Protocol;

namespace Sandbox.Client.Tests.Json;

/// <summary>The source-generated wire JSON is byte-for-byte what the reflection-based settings produced before.</summary>
public sealed class SandboxJsonTests
{
    // The settings SandboxJson.Options had before the generated context: reflection metadata only.
    private static readonly JsonSerializerOptions Reflection = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.Strict,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    public static TheoryData<Type, string> Bodies => new()
    {
        { typeof(SandboxInfo), """{"id":"3f1c","name":"box <1> & 'é'","dataplane_url":"http://127.0.0.1:1/dp/3f1c","status":"ready","created_at":"2026-01-01T00:00:00Z","idle_ttl_seconds":600,"vcpus":2,"mem_bytes":1073741824,"labels":{"Team":"a\"b","env":"dev"}}""" },
        { typeof(CreateSandboxRequest), """{"name":"b","snapshot_name":"default","timeout":30,"labels":{"A":"1"},"proxy_config":{"rules":[{"name":"gh","match_hosts":["api.github.com"],"headers":[{"name":"Authorization","type":"workspace_secret","value":"Bearer {GH}"}],"extra_field":{"x":[1,2]}}],"no_proxy":["localhost"],"callbacks":{"url":"http://x"},"unknown":true},"mount_config":{"mounts":[{"mount_path":"/mnt/s3","s3":{"bucket":"b"},"other":1}]}}""" },
        { typeof(CreateSandboxRequest), """{"name":"b","proxy_config":{"rules":[{"name":"map","match_hosts":["x"],"headers":{"X-Plain":"v","X-Secret":"{S}"}}]}}""" },
        { typeof(ExecutionClientFrame), """{"type":"execute","command":"echo 'ünï' \u0026\u0026 ls","timeout_seconds":60,"shell":"/bin/bash","env":{"PATH":"/bin","Z":"<>"},"cwd":"/home/user","pty":false,"idle_timeout_seconds":-1,"kill_on_disconnect":true}""" },
        { typeof(ExecutionServerFrame), """{"type":"stdout","data":"\u001b[31mred\u001b[0m\n\t\"q\"","offset":12}""" },
        { typeof(ErrorResponse), """{"detail":{"error":"NotFound","message":"Sandbox 'x' not found.","error_id":"e1"}}""" },
        { typeof(ErrorResponse), """{"detail":[{"loc":["body","name",0],"msg":"bad","type":"value_error"}]}""" },
        { typeof(SnapshotList), """{"snapshots":[{"id":"s","name":"default","status":"ready","fs_capacity_bytes":1024,"docker_image":"python:3.12"}],"offset":0}""" },
        { typeof(GrepResponse), """{"matches":[{"path":"/a","line":3,"text":"x"}],"truncated":true}""" },
        { typeof(ServiceUrlInfo), """{"browser_url":"http://x/?t=1&u=2","service_url":"http://x","token":"t","expires_at":"2026-01-01T00:00:00Z"}""" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public void Generated_metadata_writes_the_same_bytes_as_reflection(Type type, string json)
    {
        var viaReflection = JsonSerializer.Deserialize(json, type, Reflection)!;
        var viaGenerated = JsonSerializer.Deserialize(json, type, SandboxJson.Options)!;

        var expected = JsonSerializer.Serialize(viaReflection, type, Reflection);
        Assert.Equal(expected, JsonSerializer.Serialize(viaReflection, type, SandboxJson.Options));
        Assert.Equal(expected, JsonSerializer.Serialize(viaGenerated, type, SandboxJson.Options));
        Assert.Equal(expected, JsonSerializer.Serialize(viaGenerated, type, Reflection));
    }

    [Fact]
    public void Absent_fields_keep_their_defaults()
    {
        Assert.True(JsonSerializer.Deserialize<CreateSandboxRequest>("{}", SandboxJson.Options)!.WaitForReady);
        Assert.Equal("", JsonSerializer.Deserialize<SandboxInfo>("{}", SandboxJson.Options)!.Name);
        Assert.Equal(60, JsonSerializer.Deserialize<ExecuteRequest>("""{"command":"ls"}""", SandboxJson.Options)!.Timeout);
        var item = JsonSerializer.Deserialize<ValidationErrorItem>("{}", SandboxJson.Options)!;
        Assert.Equal(("value_error", 0), (item.Type, item.Loc.Count));
    }

    [Theory]
    [InlineData(typeof(SandboxInfo))]
    [InlineData(typeof(ExecutionClientFrame))]
    [InlineData(typeof(ExecutionServerFrame))]
    [InlineData(typeof(ErrorResponse))]
    [InlineData(typeof(CreateSandboxRequest))]
    public void Protocol_shapes_use_the_generated_context(Type type) =>
        Assert.Same(SandboxJsonContext.Default, SandboxJson.Options.GetTypeInfo(type).OriginatingResolver);

    [Fact]
    public void Shapes_outside_the_protocol_still_serialize_with_the_wire_settings() =>
        Assert.Equal("""{"box_id":"a"}""",
            JsonSerializer.Serialize(new { BoxId = "a", When = (string?)null }, SandboxJson.Options));

    [Theory]
    [InlineData("""{"detail":{"error":"ReadError","message":"m","error_id":"id"}}""", "ReadError", "m", "id", null)]
    [InlineData("""{"detail":"plain"}""", null, "plain", null, null)]
    [InlineData("""{"detail":[{"loc":["body","port"],"msg":"a"},{"loc":[],"msg":"b"}]}""", null, "a; b", null, "port")]
    [InlineData("""{"detail":[]}""", null, null, null, null)]
    [InlineData("""{"detail":{"error":1,"message":["x"]}}""", null, null, null, null)]
    [InlineData("""<html>bad gateway</html>""", null, null, null, null)]
    [InlineData("""{"detail":"x"} trailing""", null, null, null, null)]
    [InlineData("""[1,2]""", null, null, null, null)]
    [InlineData("", null, null, null, null)]
    public void Error_bodies_of_any_shape_parse_without_throwing(string text, string? type, string? message, string? errorId, string? field)
    {
        var body = ErrorResponse.Parse(text);
        Assert.Equal(type, body.ErrorType);
        Assert.Equal(message, body.Message);
        Assert.Equal(errorId, body.ErrorId);
        Assert.Equal(field, body.Field);
    }

    [Fact]
    public void Server_built_error_bodies_read_back()
    {
        var structured = ErrorResponse.Parse(JsonSerializer.Serialize(ErrorResponse.Structured("NotReady", "starting"), SandboxJson.Options));
        Assert.Equal(("NotReady", "starting"), (structured.ErrorType, structured.Message));

        var validation = ErrorResponse.Parse(JsonSerializer.Serialize(ErrorResponse.Validation("port", "out of range"), SandboxJson.Options));
        Assert.Equal(("port", "out of range", "value_error"), (validation.Field, validation.Message, validation.ValidationErrors![0].Type));
    }
}
