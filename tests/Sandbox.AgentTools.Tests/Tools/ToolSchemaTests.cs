using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sandbox.AgentTools.Tests;

public sealed class ToolSchemaTests : IAsyncLifetime
{
    private readonly FakeProvisioner _provisioner = new();
    private SandboxLeasePool _pool = null!;

    public ValueTask InitializeAsync()
    {
        _pool = new SandboxLeasePool(_provisioner, new SandboxPoolOptions { MinIdle = 0 }, TimeProvider.System, NullLogger.Instance);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _pool.DisposeAsync();
        _provisioner.Dispose();
    }

    [Fact]
    public void Create_ReturnsTheFiveSnakeCaseTools_WithDescribedParameters()
    {
        IList<AITool> tools = SandboxTools.Create(_pool, "conv");
        Assert.Equal(["run_code", "write_file", "read_file", "list_files", "expose_port"], tools.Select(t => t.Name));
        foreach (AIFunction function in tools.Cast<AIFunction>())
        {
            Assert.False(string.IsNullOrWhiteSpace(function.Description));
            JsonElement properties = function.JsonSchema.GetProperty("properties");
            foreach (JsonProperty parameter in properties.EnumerateObject())
            {
                Assert.False(string.IsNullOrWhiteSpace(parameter.Value.GetProperty("description").GetString()), $"{function.Name}.{parameter.Name} has a description");
            }
        }

        AIFunction runCode = (AIFunction)tools[0];
        Assert.Equal(["python", "javascript", "bash"],
            runCode.JsonSchema.GetProperty("properties").GetProperty("language").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        AIFunction writeFile = (AIFunction)tools[1];
        Assert.Equal(["utf-8", "base64"],
            writeFile.JsonSchema.GetProperty("properties").GetProperty("encoding").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Create_WithApprovalOption_WrapsExposePort()
    {
        IList<AITool> tools = SandboxTools.Create(_pool, "conv", new SandboxToolOptions { RequireApprovalForExposePort = true });
        Assert.IsType<ApprovalRequiredAIFunction>(tools.Single(t => t.Name == "expose_port"));
        Assert.IsNotType<ApprovalRequiredAIFunction>(tools.Single(t => t.Name == "run_code"));
    }

    [Theory]
    [InlineData("write_file", """{"path":"../../etc/passwd","content":"x","encoding":"utf-8"}""", "path_outside_workspace")]
    [InlineData("read_file", """{"path":"/etc/shadow"}""", "path_outside_workspace")]
    [InlineData("run_code", """{"code":"print(1)","language":"cobol"}""", "invalid_argument")]
    [InlineData("run_code", """{"language":"python"}""", "invalid_argument")]
    [InlineData("run_code", """{"code":"1","language":"python","timeout_seconds":100000}""", "invalid_argument")]
    [InlineData("write_file", """{"path":"a.bin","content":"***","encoding":"base64"}""", "invalid_argument")]
    [InlineData("expose_port", """{"port":70000}""", "invalid_argument")]
    [InlineData("list_files", """{"pattern":"../*"}""", "invalid_argument")]
    public async Task BadArguments_AreReportedToTheModel_WithoutTouchingASandbox(string tool, string json, string errorType)
    {
        AIFunction function = SandboxTools.Create(_pool, "conv").Cast<AIFunction>().Single(t => t.Name == tool);
        var arguments = new AIFunctionArguments(JsonSerializer.Deserialize<Dictionary<string, object?>>(json)!);
        var result = (JsonElement)(await function.InvokeAsync(arguments))!;
        Assert.Equal(errorType, result.GetProperty("error_type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(result.GetProperty("error").GetString()));
        Assert.Equal(0, _provisioner.Created);
    }

    [Fact]
    public async Task WriteFile_OverTheSizeLimit_SaysWhatToDo()
    {
        AIFunction function = SandboxTools.Create(_pool, "conv", new SandboxToolOptions { MaxWriteBytes = 10 }).Cast<AIFunction>().Single(t => t.Name == "write_file");
        var result = (JsonElement)(await function.InvokeAsync(new AIFunctionArguments(new Dictionary<string, object?>
        {
            ["path"] = "big.txt",
            ["content"] = new string('x', 11),
            ["encoding"] = "utf-8",
        })))!;
        Assert.Equal("too_large", result.GetProperty("error_type").GetString());
        Assert.Contains("at most 10 bytes", result.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(result.GetProperty("hint").GetString()));
    }

    [Fact]
    public async Task AddSandboxAgentTools_RegistersPoolAndFactory_Once()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new Sandbox.Client.SandboxClient(new Sandbox.Client.SandboxClientOptions { Endpoint = new Uri("http://127.0.0.1:9/v2/sandboxes"), ApiKey = "k" }));
        services.AddSandboxAgentTools(t => t.WorkspaceRoot = "/work", p => p.MinIdle = 0);
        services.AddSandboxAgentTools();
        Assert.Single(services, d => d.ServiceType == typeof(SandboxLeasePool));
        Assert.Single(services, d => d.ServiceType == typeof(SandboxToolFactory));
        await using ServiceProvider provider = services.BuildServiceProvider();
        SandboxToolFactory factory = provider.GetRequiredService<SandboxToolFactory>();
        AIFunction writeFile = factory.CreateTools("c1").Cast<AIFunction>().Single(t => t.Name == "write_file");
        Assert.Contains("/work", writeFile.Description, StringComparison.Ordinal);
    }
}

public sealed class ToolSchemaFromTypesTests : IAsyncLifetime
{
    private readonly FakeProvisioner _provisioner = new();
    private SandboxLeasePool _pool = null!;

    public ValueTask InitializeAsync()
    {
        _pool = new SandboxLeasePool(_provisioner, new SandboxPoolOptions { MinIdle = 0 }, TimeProvider.System, NullLogger.Instance);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _pool.DisposeAsync();
        _provisioner.Dispose();
    }

    [Theory]
    [InlineData("run_code", new[] { "code" }, new[] { "code", "language", "timeout_seconds" })]
    [InlineData("write_file", new[] { "path", "content" }, new[] { "path", "content", "encoding" })]
    [InlineData("read_file", new[] { "path" }, new[] { "path", "offset", "length", "encoding" })]
    [InlineData("list_files", new string[0], new[] { "path", "pattern" })]
    [InlineData("expose_port", new[] { "port" }, new[] { "port" })]
    public void Schemas_RequireOnlyArgumentsWithoutDefaults_AndAllowNoOthers(string tool, string[] required, string[] properties)
    {
        AIFunction function = SandboxTools.Create(_pool).OfType<AIFunction>().Single(f => f.Name == tool);
        JsonElement schema = function.JsonSchema;
        Assert.Equal("object", schema.GetProperty("type").GetString());
        Assert.False(schema.GetProperty("additionalProperties").GetBoolean());
        string[] actualRequired = schema.TryGetProperty("required", out JsonElement r) ? [.. r.EnumerateArray().Select(e => e.GetString()!)] : [];
        Assert.Equal(required.Order(), actualRequired.Order());
        Assert.Equal(properties.Order(), schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public void Defaults_AndLimits_ComeFromTheArgumentTypesAndOptions()
    {
        var options = new SandboxToolOptions { MaxTimeout = TimeSpan.FromSeconds(90), DefaultTimeout = TimeSpan.FromSeconds(12), MaxReadBytes = 1000, WorkspaceRoot = "/work/space" };
        IList<AITool> tools = SandboxTools.Create(_pool, options);
        JsonElement run = ((AIFunction)tools[0]).JsonSchema.GetProperty("properties");
        Assert.Equal("python", run.GetProperty("language").GetProperty("default").GetString());
        Assert.Equal(["python", "javascript", "bash"], run.GetProperty("language").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(90, run.GetProperty("timeout_seconds").GetProperty("maximum").GetDouble());
        Assert.Contains("default 12", run.GetProperty("timeout_seconds").GetProperty("description").GetString());
        JsonElement read = ((AIFunction)tools[2]).JsonSchema.GetProperty("properties");
        Assert.Equal(1000, read.GetProperty("length").GetProperty("maximum").GetDouble());
        Assert.Equal("auto", read.GetProperty("encoding").GetProperty("default").GetString());
        Assert.Contains("/work/space", read.GetProperty("path").GetProperty("description").GetString());
        JsonElement write = ((AIFunction)tools[1]).JsonSchema.GetProperty("properties");
        Assert.Equal("utf-8", write.GetProperty("encoding").GetProperty("default").GetString());
    }
}
