using System.ClientModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI;
using Sandbox.AgentTools.SemanticKernel;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// Semantic Kernel over an <see cref="IChatClient"/>: M.E.AI.OpenAI's chat client with <c>UseKernelFunctionInvocation()</c>,
/// exposed to the kernel with <c>AsChatCompletionService()</c>. On this path Semantic Kernel hands the filters a new
/// <see cref="ChatHistory"/> copy per call, so the conversation and the images must not be keyed to that object.
/// </summary>
[Collection(LocalServerCollection.Name)]
public sealed class SemanticKernelChatClientTests(LocalServerFixture fixture) : IAsyncLifetime
{
    // Semantic Kernel names the functions sandbox_run_code, ... on this path.
    private static readonly Func<string, string> Sk = name => "sandbox_" + name;
    private static readonly OpenAIPromptExecutionSettings Auto = new() { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };
    private FakeOpenAIServer _model = null!;

    public async ValueTask InitializeAsync() => _model = await FakeOpenAIServer.StartAsync();

    public async ValueTask DisposeAsync() => await _model.DisposeAsync();

    private IChatCompletionService ChatClientService() =>
        new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = _model.BaseUri })
            .GetChatClient("fake-model").AsIChatClient()
            .AsBuilder()
            .UseKernelFunctionInvocation()
            .Build()
            .AsChatCompletionService();

    /// <summary>The kernel builder registration: the chat completion service registered before <c>AddSandboxTools</c> is wrapped.</summary>
    private Kernel CreateKernel()
    {
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.Services.AddSingleton(ChatClientService());
        builder.AddSandboxTools(fixture.Pool, o => o.FunctionNameSeparator = "_");
        return builder.Build();
    }

    private static async Task<ChatMessageContent> AskAsync(Kernel kernel, ChatHistory history, string text)
    {
        history.AddUserMessage(text);
        ChatMessageContent reply = await kernel.GetRequiredService<IChatCompletionService>().GetChatMessageContentAsync(history, Auto, kernel);
        history.Add(reply);
        return reply;
    }

    [Fact]
    public async Task EveryTool_RunsInTheCallersChatHistoryBox_ImagesArriveAsImageParts_OneSpanPerCall()
    {
        Kernel kernel = CreateKernel();
        var history = new ChatHistory();
        using var capture = new SpanCapture(nameof(EveryTool_RunsInTheCallersChatHistoryBox_ImagesArriveAsImageParts_OneSpanPerCall));
        try
        {
            FrameworkScript.EveryTool(_model, Sk);
            ChatMessageContent reply = await AskAsync(kernel, history, "Sum data/nums.txt, plot, serve it.");

            Assert.Equal(FrameworkScript.FinalText, reply.Content);
            // Every call ran in the box of the caller's history (the file written by the first call was read by the later ones).
            FrameworkScript.AssertEveryTool(_model, capture, SandboxKernelExtensions.ConversationIdOf(history), "semantic-kernel-chatclient");
            Assert.All(capture.ToolSpans, s => Assert.Equal("chat_history", s.GetTagItem("sandbox.conversation.source")));

            // The caller's history holds the whole exchange in order: each tool message right after its call, the images after the round.
            List<AuthorRole> roles = [.. history.Select(m => m.Role)];
            int plotResult = history.ToList().FindIndex(m => m.Items.OfType<Microsoft.SemanticKernel.FunctionResultContent>().Any(r => r.CallId == "call_plot"));
            Assert.True(plotResult > 0, string.Join(",", roles));
            Assert.Equal(AuthorRole.User, history[plotResult + 1].Role);
            Assert.Single(history[plotResult + 1].Items.OfType<ImageContent>());

            // Descriptions and hints name the functions as this path offers them (sandbox_run_code, not sandbox-run_code).
            string exposeDescription = _model.Requests[0]["tools"]!.AsArray()
                .Single(t => t!["function"]!["name"]!.GetValue<string>() == "sandbox_expose_port")!["function"]!["description"]!.GetValue<string>();
            Assert.Contains("sandbox_run_code", exposeDescription, StringComparison.Ordinal);
            _model.ReplyWithToolCalls(("call_missing", Sk("read_file"), new { path = "nope.txt" }));
            _model.ReplyWithText("missing");
            await AskAsync(kernel, history, "read nope.txt");
            JsonElement missing = RecordedRequests.ToolRecord(_model.Requests, "call_missing");
            Assert.Contains("sandbox_list_files", missing.GetProperty("hint").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(history);
        }
    }

    [Fact]
    public async Task Streaming_EveryTool_RunsInTheCallersChatHistoryBox_ImagesArriveAsImageParts_OneSpanPerCall()
    {
        Kernel kernel = CreateKernel();
        var history = new ChatHistory();
        using var capture = new SpanCapture(nameof(Streaming_EveryTool_RunsInTheCallersChatHistoryBox_ImagesArriveAsImageParts_OneSpanPerCall));
        try
        {
            FrameworkScript.EveryTool(_model, Sk);
            history.AddUserMessage("Sum data/nums.txt, plot, serve it.");
            var text = new System.Text.StringBuilder();
            await foreach (StreamingChatMessageContent update in kernel.GetRequiredService<IChatCompletionService>()
                .GetStreamingChatMessageContentsAsync(history, Auto, kernel))
            {
                if (update.Role != AuthorRole.Tool)
                {
                    text.Append(update.Content);
                }
            }

            Assert.Equal(FrameworkScript.FinalText, text.ToString());
            Assert.All(_model.Requests, r => Assert.True(r["stream"]?.GetValue<bool>(), "every model call streamed"));
            FrameworkScript.AssertEveryTool(_model, capture, SandboxKernelExtensions.ConversationIdOf(history), "semantic-kernel-chatclient-streaming");
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

            FrameworkScript.AssertIsolation(_model, "semantic-kernel-chatclient",
                $"one kernel, IChatClient.AsChatCompletionService() with UseKernelFunctionInvocation(), two ChatHistory objects: A = {SandboxKernelExtensions.ConversationIdOf(a)}, B = {SandboxKernelExtensions.ConversationIdOf(b)}");
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(a);
            await fixture.Pool.ReleaseConversationAsync(b);
        }
    }

    [Fact]
    public async Task WithoutTheWrappingService_ACopiedHistoryNamesNoConversation_TheCallIsRefused()
    {
        // The plugin and filter on the kernel, the bridge service not wrapped: the filter only sees per-call copies of the
        // history, so it cannot tell the conversation; the call is refused rather than run in a fresh box per call.
        var kernel = new Kernel(new ServiceCollection().AddSingleton(ChatClientService()).BuildServiceProvider());
        kernel.AddSandboxTools(fixture.Pool, new SandboxKernelOptions { FunctionNameSeparator = "_" });
        _model.ReplyWithToolCalls(("call_run", Sk("run_code"), new { code = "print(1)" }));
        _model.ReplyWithText("Could not run.");
        await AskAsync(kernel, new ChatHistory(), "run");

        JsonElement record = RecordedRequests.ToolRecord(_model.Requests, "call_run");
        Assert.Equal("no_conversation", record.GetProperty("error_type").GetString());
    }
}
