using System.ClientModel;
using System.Text;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI;
using Sandbox.AgentTools.SemanticKernel;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// Semantic Kernel streaming: <c>GetStreamingChatMessageContentsAsync</c> with <c>FunctionChoiceBehavior.Auto()</c> on the
/// OpenAI connector (the fake server streams chat.completion.chunk events), the plugin registered by the kernel builder.
/// </summary>
[Collection(LocalServerCollection.Name)]
public sealed class SemanticKernelStreamingTests(LocalServerFixture fixture) : IAsyncLifetime
{
    private static readonly Func<string, string> Sk = name => "sandbox-" + name;
    private static readonly OpenAIPromptExecutionSettings Auto = new() { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };
    private FakeOpenAIServer _model = null!;

    public async ValueTask InitializeAsync() => _model = await FakeOpenAIServer.StartAsync();

    public async ValueTask DisposeAsync() => await _model.DisposeAsync();

    private Kernel CreateKernel()
    {
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddOpenAIChatCompletion("fake-model", new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = _model.BaseUri }));
        builder.AddSandboxTools(fixture.Pool);
        return builder.Build();
    }

    private static async Task<string> AskStreamingAsync(Kernel kernel, ChatHistory history, string text)
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
    public async Task Streaming_EveryTool_RunsInTheChatHistorysBox_ImagesArriveAsImageParts_OneSpanPerCall()
    {
        Kernel kernel = CreateKernel();
        var history = new ChatHistory();
        using var capture = new SpanCapture(nameof(Streaming_EveryTool_RunsInTheChatHistorysBox_ImagesArriveAsImageParts_OneSpanPerCall));
        try
        {
            FrameworkScript.EveryTool(_model, Sk);
            string reply = await AskStreamingAsync(kernel, history, "Sum data/nums.txt, plot, serve it.");

            Assert.Equal(FrameworkScript.FinalText, reply);
            Assert.All(_model.Requests, r => Assert.True(r["stream"]?.GetValue<bool>(), "every model call streamed"));
            FrameworkScript.AssertEveryTool(_model, capture, SandboxKernelExtensions.ConversationIdOf(history), "semantic-kernel-streaming");
            Assert.All(capture.ToolSpans, s => Assert.Equal("chat_history", s.GetTagItem("sandbox.conversation.source")));
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(history);
        }
    }

    [Fact]
    public async Task Streaming_TwoChatHistories_SharingOneKernel_DoNotSeeEachOthersVariablesOrFiles()
    {
        Kernel kernel = CreateKernel();
        var a = new ChatHistory();
        var b = new ChatHistory();
        try
        {
            FrameworkScript.IsolationA1(_model, Sk);
            await AskStreamingAsync(kernel, a, "remember a secret");
            FrameworkScript.IsolationB(_model, Sk);
            await AskStreamingAsync(kernel, b, "what is the secret?");
            FrameworkScript.IsolationA2(_model, Sk);
            await AskStreamingAsync(kernel, a, "what is the secret?");

            FrameworkScript.AssertIsolation(_model, "semantic-kernel-streaming",
                $"one kernel, OpenAI connector streaming with auto function calling, two ChatHistory objects: A = {SandboxKernelExtensions.ConversationIdOf(a)}, B = {SandboxKernelExtensions.ConversationIdOf(b)}");
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(a);
            await fixture.Pool.ReleaseConversationAsync(b);
        }
    }
}
