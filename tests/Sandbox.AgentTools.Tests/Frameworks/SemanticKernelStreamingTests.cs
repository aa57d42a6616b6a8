using System.Text;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// Semantic Kernel streaming: <c>GetStreamingChatMessageContentsAsync</c> with <c>FunctionChoiceBehavior.Auto()</c> on the
/// OpenAI connector (the fake server streams chat.completion.chunk events), the plugin registered by the kernel builder.
/// </summary>
[Collection(LocalServerCollection.Name)]
public sealed class SemanticKernelStreamingTests(LocalServerFixture fixture) : SemanticKernelTestBase(fixture)
{
    private static async Task<string?> AskStreamingAsync(Kernel kernel, ChatHistory history, string text)
    {
        history.AddUserMessage(text);
        var reply = new StringBuilder();
        await foreach (StreamingChatMessageContent update in kernel.GetRequiredService<IChatCompletionService>()
            .GetStreamingChatMessageContentsAsync(history, Auto, kernel))
        {
            reply.Append(update.Content);
        }

        history.AddAssistantMessage(reply.ToString());
        return reply.ToString();
    }

    [Fact]
    public Task Streaming_EveryTool_RunsInTheChatHistorysBox_ImagesArriveAsImageParts_OneSpanPerCall() =>
        EveryToolRunsInTheHistorysBoxAsync(CreateConnectorKernel(), AskStreamingAsync, "semantic-kernel-streaming",
            nameof(Streaming_EveryTool_RunsInTheChatHistorysBox_ImagesArriveAsImageParts_OneSpanPerCall), streamed: true);

    [Fact]
    public Task Streaming_TwoChatHistories_SharingOneKernel_DoNotSeeEachOthersVariablesOrFiles() =>
        HistoriesAreIsolatedAsync(CreateConnectorKernel(), AskStreamingAsync, "semantic-kernel-streaming", "one kernel, OpenAI connector streaming with auto function calling");
}
