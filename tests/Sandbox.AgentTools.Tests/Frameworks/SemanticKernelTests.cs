using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI;
using Sandbox.AgentTools.SemanticKernel;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// Semantic Kernel as its docs show it: the OpenAI connector with <c>FunctionChoiceBehavior.Auto()</c> and the sandbox plugin,
/// against a scripted loopback OpenAI-compatible server; the tools run on the embedded local sandbox server.
/// </summary>
[Collection(LocalServerCollection.Name)]
public sealed class SemanticKernelTests(LocalServerFixture fixture) : IAsyncLifetime
{
    private static readonly Func<string, string> Sk = name => "sandbox-" + name;
    private FakeOpenAIServer _model = null!;

    public async Task InitializeAsync() => _model = await FakeOpenAIServer.StartAsync();

    public async Task DisposeAsync() => await _model.DisposeAsync();

    private Kernel CreateKernel(Action<SandboxKernelOptions>? configure = null)
    {
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddOpenAIChatCompletion("fake-model", new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = _model.BaseUri }));
        builder.AddSandboxTools(fixture.Pool, configure);
        return builder.Build();
    }

    private static readonly OpenAIPromptExecutionSettings Auto = new() { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };

    private static async Task<ChatMessageContent> AskAsync(Kernel kernel, ChatHistory history, string text)
    {
        history.AddUserMessage(text);
        ChatMessageContent reply = await kernel.GetRequiredService<IChatCompletionService>().GetChatMessageContentAsync(history, Auto, kernel);
        history.Add(reply);
        return reply;
    }

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
        var history = new ChatHistory();
        using var capture = new SpanCapture(nameof(EveryTool_RunsInTheChatHistorysBox_ImagesArriveAsImageParts_OneSpanPerCall));
        try
        {
            FrameworkScript.EveryTool(_model, Sk);
            ChatMessageContent reply = await AskAsync(kernel, history, "Sum data/nums.txt, plot, serve it.");

            Assert.Equal(FrameworkScript.FinalText, reply.Content);
            FrameworkScript.AssertEveryTool(_model, capture, SandboxKernelExtensions.ConversationIdOf(history), "semantic-kernel");
            Assert.All(capture.ToolSpans, s => Assert.Equal("chat_history", s.GetTagItem("sandbox.conversation.source")));

            // A hint under the plugin prefix: read_file of a missing file points at sandbox-list_files.
            _model.ReplyWithToolCalls(("call_missing", Sk("read_file"), new { path = "nope.txt" }));
            _model.ReplyWithText("missing");
            await AskAsync(kernel, history, "read nope.txt");
            JsonElement missing = RecordedRequests.ToolRecord(_model.Requests, "call_missing");
            Assert.Contains("sandbox-list_files", missing.GetProperty("hint").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(history);
        }
    }

    [Fact]
    public async Task TwoChatHistories_SharingOneKernel_DoNotSeeEachOthersVariablesOrFiles()
    {
        Kernel kernel = CreateKernel();
        var a = new ChatHistory();
        var b = new ChatHistory();
        try
        {
            FrameworkScript.IsolationA1(_model, Sk);
            await AskAsync(kernel, a, "remember a secret");
            FrameworkScript.IsolationB(_model, Sk);
            await AskAsync(kernel, b, "what is the secret?");
            FrameworkScript.IsolationA2(_model, Sk);
            await AskAsync(kernel, a, "what is the secret?");

            FrameworkScript.AssertIsolation(_model, "semantic-kernel",
                $"one kernel with the sandbox plugin, two ChatHistory objects: A = {SandboxKernelExtensions.ConversationIdOf(a)}, B = {SandboxKernelExtensions.ConversationIdOf(b)}");
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(a);
            await fixture.Pool.ReleaseConversationAsync(b);
        }
    }

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
            _model.ReplyWithToolCalls(("call_expose", Sk("expose_port"), new { port = 8000 }));
            _model.ReplyWithText("Not exposed.");
            ChatMessageContent reply = await AskAsync(kernel, history, "publish port 8000");

            Assert.Equal("Not exposed.", reply.Content);
            SandboxApprovalRequest request = Assert.Single(asked);
            Assert.Equal(("sandbox", "expose_port", "call_expose"), (request.PluginName, request.FunctionName, request.ToolCallId));
            Assert.Equal("8000", request.Arguments["port"]?.ToString());
            JsonElement record = RecordedRequests.ToolRecord(_model.Requests, "call_expose");
            Assert.Equal("not_approved", record.GetProperty("error_type").GetString());
            Assert.DoesNotContain(capture.Spans, s => s.GetTagItem("sandbox.name") is not null);
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(history);
        }
    }

    [Fact]
    public async Task ExposePort_NeedsApproval_WithoutTheFilter_IsRefused()
    {
        var kernel = new Kernel(new ServiceCollection()
            .AddSingleton<IChatCompletionService>(new OpenAIChatCompletionService("fake-model",
                new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = _model.BaseUri })))
            .BuildServiceProvider());
        kernel.Plugins.AddSandboxTools(fixture.Pool, new SandboxKernelOptions { Tools = { RequireApprovalForExposePort = true } });
        kernel.Data[SandboxTools.ConversationIdKey] = "sk-nofilter-" + Guid.NewGuid().ToString("N");
        _model.ReplyWithToolCalls(("call_expose", Sk("expose_port"), new { port = 8000 }));
        _model.ReplyWithText("Not exposed.");
        await AskAsync(kernel, new ChatHistory(), "publish port 8000");

        JsonElement record = RecordedRequests.ToolRecord(_model.Requests, "call_expose");
        Assert.Equal("not_approved", record.GetProperty("error_type").GetString());
    }
}
