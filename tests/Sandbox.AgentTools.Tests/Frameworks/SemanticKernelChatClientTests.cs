using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Sandbox.AgentTools.SemanticKernel;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// Semantic Kernel over an <see cref="IChatClient"/>: M.E.AI.OpenAI's chat client with <c>UseKernelFunctionInvocation()</c>,
/// exposed to the kernel with <c>AsChatCompletionService()</c>. On this path Semantic Kernel hands the filters a new
/// <see cref="ChatHistory"/> copy per call, so the conversation and the images must not be keyed to that object.
/// </summary>
[Collection(LocalServerCollection.Name)]
public sealed class SemanticKernelChatClientTests(LocalServerFixture fixture) : SemanticKernelTestBase(fixture)
{
    // Semantic Kernel names the functions sandbox_run_code, ... on this path.
    private protected override string Separator => "_";

    private IChatCompletionService ChatClientService() =>
        ModelClient()
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
        builder.AddSandboxTools(Fixture.Pool, o => o.FunctionNameSeparator = "_");
        return builder.Build();
    }

    /// <summary>Streams one turn; the tool messages the stream carries are not part of the reply's text.</summary>
    private static async Task<string?> AskStreamingAsync(Kernel kernel, ChatHistory history, string text)
    {
        history.AddUserMessage(text);
        var reply = new System.Text.StringBuilder();
        await foreach (StreamingChatMessageContent update in kernel.GetRequiredService<IChatCompletionService>()
            .GetStreamingChatMessageContentsAsync(history, Auto, kernel))
        {
            if (update.Role != AuthorRole.Tool)
            {
                reply.Append(update.Content);
            }
        }

        return reply.ToString();
    }

    [Fact]
    public async Task EveryTool_RunsInTheCallersChatHistoryBox_ImagesArriveAsImageParts_OneSpanPerCall()
    {
        Kernel kernel = CreateKernel();
        // Every call ran in the box of the caller's history (the file written by the first call was read by the later ones).
        await EveryToolRunsInTheHistorysBoxAsync(kernel, AskTextAsync, "semantic-kernel-chatclient", nameof(EveryTool_RunsInTheCallersChatHistoryBox_ImagesArriveAsImageParts_OneSpanPerCall),
            andThen: async history =>
            {
                // The caller's history holds the whole exchange in order: each tool message right after its call, the images after the round.
                List<AuthorRole> roles = [.. history.Select(m => m.Role)];
                int plotResult = history.ToList().FindIndex(m => m.Items.OfType<Microsoft.SemanticKernel.FunctionResultContent>().Any(r => r.CallId == "call_plot"));
                Assert.True(plotResult > 0, string.Join(",", roles));
                Assert.Equal(AuthorRole.User, history[plotResult + 1].Role);
                Assert.Single(history[plotResult + 1].Items.OfType<ImageContent>());

                // Descriptions and hints name the functions as this path offers them (sandbox_run_code, not sandbox-run_code).
                string exposeDescription = Model.Requests[0]["tools"]!.AsArray()
                    .Single(t => t!["function"]!["name"]!.GetValue<string>() == "sandbox_expose_port")!["function"]!["description"]!.GetValue<string>();
                Assert.Contains("sandbox_run_code", exposeDescription, StringComparison.Ordinal);
                await MissingFileHintNamesListFilesAsync(kernel, history);
            });
    }

    [Fact]
    public Task Streaming_EveryTool_RunsInTheCallersChatHistoryBox_ImagesArriveAsImageParts_OneSpanPerCall() =>
        EveryToolRunsInTheHistorysBoxAsync(CreateKernel(), AskStreamingAsync, "semantic-kernel-chatclient-streaming",
            nameof(Streaming_EveryTool_RunsInTheCallersChatHistoryBox_ImagesArriveAsImageParts_OneSpanPerCall), streamed: true);

    [Fact]
    public Task TwoChatHistories_SharingOneKernel_DoNotSeeEachOthersVariablesOrFiles() =>
        HistoriesAreIsolatedAsync(CreateKernel(), AskTextAsync, "semantic-kernel-chatclient",
            "one kernel, IChatClient.AsChatCompletionService() with UseKernelFunctionInvocation()");

    [Fact]
    public async Task WithoutTheWrappingService_ACopiedHistoryNamesNoConversation_TheCallIsRefused()
    {
        // The plugin and filter on the kernel, the bridge service not wrapped: the filter only sees per-call copies of the
        // history, so it cannot tell the conversation; the call is refused rather than run in a fresh box per call.
        var kernel = new Kernel(new ServiceCollection().AddSingleton(ChatClientService()).BuildServiceProvider());
        kernel.AddSandboxTools(Fixture.Pool, new SandboxKernelOptions { FunctionNameSeparator = "_" });
        Model.ReplyWithToolCalls(("call_run", Sk("run_code"), new { code = "print(1)" }));
        Model.ReplyWithText("Could not run.");
        await AskAsync(kernel, new ChatHistory(), "run");

        JsonElement record = RecordedRequests.ToolRecord(Model.Requests, "call_run");
        Assert.Equal("no_conversation", record.GetProperty("error_type").GetString());
    }
}
