using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using Sandbox.AgentTools.SemanticKernel;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// Semantic Kernel as its docs show it: the OpenAI connector with <c>FunctionChoiceBehavior.Auto()</c> and the sandbox plugin,
/// against a scripted loopback OpenAI-compatible server; the tools run on the embedded local sandbox server.
/// </summary>
[Collection(LocalServerCollection.Name)]
public sealed class SemanticKernelTests(LocalServerFixture fixture) : SemanticKernelTestBase(fixture)
{
    private Kernel CreateKernel(Action<SandboxKernelOptions>? configure = null) => CreateConnectorKernel(configure);

    [Fact]
    public void Plugin_IsNamedSandbox_AndItsTextsUseThePrefixedNames()
    {
        Kernel kernel = CreateKernel();
        KernelPlugin plugin = kernel.Plugins["sandbox"];
        Assert.Equal(["expose_port", "list_files", "read_file", "run_code", "write_file"], plugin.Select(f => f.Name).Order(StringComparer.Ordinal));
        string exposeDescription = plugin["expose_port"].Description;
        Assert.Contains("sandbox-run_code", exposeDescription, StringComparison.Ordinal);
        Assert.DoesNotContain(" run_code", exposeDescription, StringComparison.Ordinal);
        Assert.DoesNotContain("'run_code", exposeDescription, StringComparison.Ordinal);
        Assert.True(true, exposeDescription);
        KernelParameterMetadata language = plugin["run_code"].Metadata.Parameters.Single(p => p.Name == "language");
        Assert.False(language.IsRequired);
        Assert.True(plugin["run_code"].Metadata.Parameters.Single(p => p.Name == "code").IsRequired);
    }

    [Fact]
    public async Task EveryTool_RunsInTheChatHistorysBox_ImagesArriveAsImageParts_OneSpanPerCall()
    {
        Kernel kernel = CreateKernel();
        await EveryToolRunsInTheHistorysBoxAsync(kernel, AskTextAsync, "semantic-kernel", nameof(EveryTool_RunsInTheChatHistorysBox_ImagesArriveAsImageParts_OneSpanPerCall),
            andThen: history => MissingFileHintNamesListFilesAsync(kernel, history)); // under the plugin prefix: sandbox-list_files
    }

    [Fact]
    public Task TwoChatHistories_SharingOneKernel_DoNotSeeEachOthersVariablesOrFiles() =>
        HistoriesAreIsolatedAsync(CreateKernel(), AskTextAsync, "semantic-kernel", "one kernel with the sandbox plugin");

    [Fact]
    public async Task ExposePort_NeedsApproval_Refused_DoesNotRun()
    {
        var asked = new List<SandboxApprovalRequest>();
        Kernel kernel = CreateKernel(o =>
        {
            o.Tools.RequireApprovalForExposePort = true;
            o.ApproveAsync = (request, _) =>
            {
                asked.Add(request);
                return ValueTask.FromResult(false);
            };
        });
        var history = new ChatHistory();
        using var capture = new SpanCapture(nameof(ExposePort_NeedsApproval_Refused_DoesNotRun));
        try
        {
            Model.ReplyWithToolCalls(("call_expose", Sk("expose_port"), new { port = 8000 }));
            Model.ReplyWithText("Not exposed.");
            ChatMessageContent reply = await AskAsync(kernel, history, "publish port 8000");

            Assert.Equal("Not exposed.", reply.Content);
            SandboxApprovalRequest request = Assert.Single(asked);
            Assert.Equal(("sandbox", "expose_port", "call_expose"), (request.PluginName, request.FunctionName, request.ToolCallId));
            Assert.Equal("8000", request.Arguments["port"]?.ToString());
            JsonElement record = RecordedRequests.ToolRecord(Model.Requests, "call_expose");
            Assert.Equal("not_approved", record.GetProperty("error_type").GetString());
            Assert.DoesNotContain(capture.Spans, s => s.GetTagItem("sandbox.name") is not null);
        }
        finally
        {
            await Fixture.Pool.ReleaseConversationAsync(history);
        }
    }

    /// <summary>The parameters of each function as the model gets them (the first recorded request's tools).</summary>
    private static Dictionary<string, JsonObject> RecordedParameters(JsonObject request) =>
        request["tools"]!.AsArray().OfType<JsonObject>().ToDictionary(
            t => t["function"]!["name"]!.GetValue<string>(), t => t["function"]!["parameters"]!.AsObject(), StringComparer.Ordinal);

    [Fact]
    public async Task Schema_UnderTheOpenAIConnector_HasTheToolsPropertiesAndRequiredList_ButNoAdditionalPropertiesFalse()
    {
        // What SK's OpenAI connector sends, next to the M.E.AI schema of the same tools (AIJsonUtilities). The connector builds the
        // parameters object itself from the function metadata (OpenAIFunction.ToFunctionDefinition): the plugin's per-property
        // schemas and required list reach the model unchanged, but the object-level additionalProperties:false does not (SK has
        // no hook for it outside strict mode, see the next test).
        Kernel kernel = CreateKernel();
        Model.ReplyWithText("hi");
        await AskAsync(kernel, new ChatHistory(), "hi");

        Dictionary<string, JsonObject> sent = RecordedParameters(Model.Requests[0]);
        var meai = SandboxTools.Create(Fixture.Pool).Cast<Microsoft.Extensions.AI.AIFunction>().ToDictionary(f => f.Name, f => JsonNode.Parse(f.JsonSchema.GetRawText())!.AsObject());
        Assert.Equal(meai.Keys.Select(Sk).Order(StringComparer.Ordinal), sent.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, JsonObject expected) in meai)
        {
            JsonObject actual = sent[Sk(name)];
            Assert.Equal(RequiredOf(expected), RequiredOf(actual));
            Assert.Equal(expected["properties"]!.AsObject().Select(p => p.Key), actual["properties"]!.AsObject().Select(p => p.Key));
            foreach ((string property, JsonNode? schema) in expected["properties"]!.AsObject())
            {
                // Same type, default, enum and limits; descriptions name the prefixed tools under SK.
                JsonObject a = actual["properties"]![property]!.AsObject();
                foreach (string key in schema!.AsObject().Select(p => p.Key).Where(k => k != "description"))
                {
                    Assert.True(JsonNode.DeepEquals(schema[key], a[key]), $"{name}.{property}.{key}: {schema[key]} vs {a[key]}");
                }
            }

            Assert.False(expected["additionalProperties"]!.GetValue<bool>());
            Assert.False(actual.ContainsKey("additionalProperties"), $"{name}: {actual}");
        }

        Assert.Equal(["code"], RequiredOf(sent["sandbox-run_code"]));
        Assert.Equal("python", sent["sandbox-run_code"]["properties"]!["language"]!["default"]!.GetValue<string>());
        FrameworkTestKit.WriteEvidence("semantic-kernel-schema.json",
            new JsonObject { ["sk_openai_connector"] = sent["sandbox-run_code"].DeepClone(), ["meai"] = meai["run_code"].DeepClone() }
                .ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    [Fact]
    public async Task Schema_InStrictMode_HasAdditionalPropertiesFalse_AndNullForAnOptionalArgumentMeansItsDefault()
    {
        Kernel kernel = CreateKernel();
        var history = new ChatHistory();
        try
        {
            Model.ReplyWithToolCalls(("call_strict", Sk("run_code"), new { code = "print(6 * 7)", language = (string?)null, timeout_seconds = (double?)null }));
            Model.ReplyWithText("42");
            var strict = new OpenAIPromptExecutionSettings
            {
                FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(options: new FunctionChoiceBehaviorOptions { AllowStrictSchemaAdherence = true }),
            };
            history.AddUserMessage("6*7?");
            await kernel.GetRequiredService<IChatCompletionService>().GetChatMessageContentAsync(history, strict, kernel);

            JsonObject tool = Model.Requests[0]["tools"]!.AsArray().OfType<JsonObject>().Single(t => t["function"]!["name"]!.GetValue<string>() == Sk("run_code"));
            Assert.True(tool["function"]!["strict"]!.GetValue<bool>());
            JsonObject parameters = tool["function"]!["parameters"]!.AsObject();
            Assert.False(parameters["additionalProperties"]!.GetValue<bool>());
            // Strict mode lists every parameter as required; the optional ones accept null, which the tool reads as its default.
            Assert.Equal(parameters["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal), RequiredOf(parameters).Order(StringComparer.Ordinal));
            Assert.Contains("null", parameters["properties"]!["language"]!["type"]!.AsArray().Select(t => t!.GetValue<string>()));
            Assert.Equal("42\n", RecordedRequests.ToolRecord(Model.Requests, "call_strict").GetProperty("stdout").GetString());
            FrameworkTestKit.WriteEvidence("semantic-kernel-schema-strict.json", parameters.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        finally
        {
            await Fixture.Pool.ReleaseConversationAsync(history);
        }
    }

    private static List<string> RequiredOf(JsonObject schema) =>
        schema["required"] is JsonArray required ? [.. required.Select(r => r!.GetValue<string>())] : [];

    [Fact]
    public async Task ExposePort_NeedsApproval_WithoutTheFilter_IsRefused()
    {
        var kernel = new Kernel(new ServiceCollection()
            .AddSingleton<IChatCompletionService>(new OpenAIChatCompletionService("fake-model", ModelClient()))
            .BuildServiceProvider());
        kernel.Plugins.AddSandboxTools(Fixture.Pool, new SandboxKernelOptions { Tools = { RequireApprovalForExposePort = true } });
        kernel.Data[SandboxTools.ConversationIdKey] = "sk-nofilter-" + Guid.NewGuid().ToString("N");
        Model.ReplyWithToolCalls(("call_expose", Sk("expose_port"), new { port = 8000 }));
        Model.ReplyWithText("Not exposed.");
        await AskAsync(kernel, new ChatHistory(), "publish port 8000");

        JsonElement record = RecordedRequests.ToolRecord(Model.Requests, "call_expose");
        Assert.Equal("not_approved", record.GetProperty("error_type").GetString());
    }
}
