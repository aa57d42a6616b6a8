using System.ClientModel;
using System.Text.Json;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;
using OpenAI;
using Sandbox.AgentTools.SemanticKernel;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// What the Semantic Kernel tests share: the scripted loopback OpenAI-compatible model, the embedded server's pool, asking a
/// kernel with <c>FunctionChoiceBehavior.Auto()</c>, and the two scenarios every Semantic Kernel path runs (every tool in the
/// box of one chat history; two chat histories on one kernel kept apart).
/// </summary>
public abstract class SemanticKernelTestBase(LocalServerFixture fixture) : IAsyncLifetime
{
    /// <summary>Asks <paramref name="kernel"/> <paramref name="text"/> in <paramref name="history"/>; returns the reply's text.</summary>
    private protected delegate Task<string?> Ask(Kernel kernel, ChatHistory history, string text);

    private protected static readonly OpenAIPromptExecutionSettings Auto = new() { FunctionChoiceBehavior = FunctionChoiceBehavior.Auto() };

    private protected LocalServerFixture Fixture { get; } = fixture;

    private protected FakeOpenAIServer Model { get; private set; } = null!;

    /// <summary>How this path joins the plugin and function names (<c>sandbox-run_code</c> by default).</summary>
    private protected virtual string Separator => "-";

    public async ValueTask InitializeAsync() => Model = await FakeOpenAIServer.StartAsync();

    public async ValueTask DisposeAsync() => await Model.DisposeAsync();

    /// <summary>A tool's name as the model sees it on this path.</summary>
    private protected string Sk(string name) => "sandbox" + Separator + name;

    /// <summary>The official OpenAI client pointed at the scripted model.</summary>
    private protected OpenAIClient ModelClient() => new(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = Model.BaseUri });

    /// <summary>The kernel of the docs: the OpenAI connector and the sandbox plugin registered by the kernel builder.</summary>
    private protected Kernel CreateConnectorKernel(Action<SandboxKernelOptions>? configure = null)
    {
        IKernelBuilder builder = Kernel.CreateBuilder();
        builder.AddOpenAIChatCompletion("fake-model", ModelClient());
        builder.AddSandboxTools(Fixture.Pool, configure);
        return builder.Build();
    }

    /// <summary>One non-streaming turn: the user's text and the reply are added to <paramref name="history"/>.</summary>
    private protected static async Task<ChatMessageContent> AskAsync(Kernel kernel, ChatHistory history, string text)
    {
        history.AddUserMessage(text);
        ChatMessageContent reply = await kernel.GetRequiredService<IChatCompletionService>().GetChatMessageContentAsync(history, Auto, kernel);
        history.Add(reply);
        return reply;
    }

    /// <summary>
    /// Every tool scripted in one turn runs in the box of that turn's chat history, with one span per call tagged as found
    /// through the chat history; <paramref name="andThen"/> checks more in the same history before its box is released.
    /// </summary>
    private protected async Task EveryToolRunsInTheHistorysBoxAsync(Kernel kernel, Ask ask, string framework, string testName, bool streamed = false,
        Func<ChatHistory, Task>? andThen = null)
    {
        var history = new ChatHistory();
        using var capture = new SpanCapture(testName);
        try
        {
            FrameworkScript.EveryTool(Model, Sk);
            string? reply = await ask(kernel, history, "Sum data/nums.txt, plot, serve it.");

            Assert.Equal(FrameworkScript.FinalText, reply);
            if (streamed)
            {
                Assert.All(Model.Requests, r => Assert.True(r["stream"]?.GetValue<bool>(), "every model call streamed"));
            }

            FrameworkScript.AssertEveryTool(Model, capture, SandboxKernelExtensions.ConversationIdOf(history), framework);
            Assert.All(capture.ToolSpans, s => Assert.Equal("chat_history", s.GetTagItem("sandbox.conversation.source")));
            if (andThen is not null)
            {
                await andThen(history);
            }
        }
        finally
        {
            await Fixture.Pool.ReleaseConversationAsync(history);
        }
    }

    /// <summary>Two chat histories sharing <paramref name="kernel"/> see neither each other's variables nor files.</summary>
    private protected async Task HistoriesAreIsolatedAsync(Kernel kernel, Ask ask, string framework, string setup)
    {
        var a = new ChatHistory();
        var b = new ChatHistory();
        try
        {
            FrameworkScript.IsolationA1(Model, Sk);
            await ask(kernel, a, "remember a secret");
            FrameworkScript.IsolationB(Model, Sk);
            await ask(kernel, b, "what is the secret?");
            FrameworkScript.IsolationA2(Model, Sk);
            await ask(kernel, a, "what is the secret?");

            FrameworkScript.AssertIsolation(Model, framework,
                $"{setup}, two ChatHistory objects: A = {SandboxKernelExtensions.ConversationIdOf(a)}, B = {SandboxKernelExtensions.ConversationIdOf(b)}");
        }
        finally
        {
            await Fixture.Pool.ReleaseConversationAsync(a);
            await Fixture.Pool.ReleaseConversationAsync(b);
        }
    }

    /// <summary>read_file of a missing file answers with a hint that names list_files as this path names it.</summary>
    private protected async Task MissingFileHintNamesListFilesAsync(Kernel kernel, ChatHistory history)
    {
        Model.ReplyWithToolCalls(("call_missing", Sk("read_file"), new { path = "nope.txt" }));
        Model.ReplyWithText("missing");
        await AskAsync(kernel, history, "read nope.txt");
        JsonElement missing = RecordedRequests.ToolRecord(Model.Requests, "call_missing");
        Assert.Contains(Sk("list_files"), missing.GetProperty("hint").GetString(), StringComparison.Ordinal);
    }

    /// <summary><see cref="AskAsync"/> as an <see cref="Ask"/>.</summary>
    private protected static async Task<string?> AskTextAsync(Kernel kernel, ChatHistory history, string text) => (await AskAsync(kernel, history, text)).Content;
}
