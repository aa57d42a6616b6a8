using CodeInterpreterAgent.Agent;
using Microsoft.Extensions.AI;

namespace Samples.Tests;

public sealed class ToolLoopTests
{
    [Fact]
    public async Task RunTurnAsync_UnknownTool_IsReportedToTheModelAndTheTurnGoesOn()
    {
        var chat = new FakeChatClient((history, n) => n == 1
            ? new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "delete_everything", new Dictionary<string, object?>())])
            : new ChatMessage(ChatRole.Assistant, "Sorry, I cannot do that."));
        var loop = new ToolLoop(chat, [AIFunctionFactory.Create(() => "pong", "ping")], new NullObserver());
        var history = new List<ChatMessage> { new(ChatRole.User, "go") };

        string? answer = await loop.RunTurnAsync(history, CancellationToken.None);

        Assert.Equal("Sorry, I cannot do that.", answer);
        FunctionResultContent result = Assert.Single(history.Where(m => m.Role == ChatRole.Tool).SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal("c1", result.CallId);
        Assert.Contains("no tool named 'delete_everything'", result.Result as string, StringComparison.Ordinal);
        Assert.True(Assert.Single(loop.Calls).Failed);
    }

    [Fact]
    public async Task RunTurnAsync_ModelThatNeverStopsCallingTools_IsCutOffAfterMaxIterations()
    {
        int invoked = 0;
        AIFunction ping = AIFunctionFactory.Create(() => ++invoked, "ping");
        var chat = new FakeChatClient((history, n) => new ChatMessage(ChatRole.Assistant, [new FunctionCallContent($"c{n}", "ping", new Dictionary<string, object?>())]));
        var loop = new ToolLoop(chat, [ping], new NullObserver()) { MaxIterations = 3 };

        string? answer = await loop.RunTurnAsync([new ChatMessage(ChatRole.User, "go")], CancellationToken.None);

        Assert.Null(answer);
        Assert.Equal(3, invoked);
        Assert.Equal(3, chat.Calls);
    }

    [Fact]
    public async Task RunTurnAsync_ToolThatThrows_BecomesAnErrorResultNotAnException()
    {
        AIFunction broken = AIFunctionFactory.Create(string () => throw new InvalidOperationException("disk on fire"), "broken");
        var chat = new FakeChatClient((history, n) => n == 1
            ? new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "broken", new Dictionary<string, object?>())])
            : new ChatMessage(ChatRole.Assistant, "done"));
        var loop = new ToolLoop(chat, [broken], new NullObserver());

        string? answer = await loop.RunTurnAsync([new ChatMessage(ChatRole.User, "go")], CancellationToken.None);

        Assert.Equal("done", answer);
        ToolCallRecord call = Assert.Single(loop.Calls);
        Assert.True(call.IsError);
        Assert.Contains("disk on fire", call.Result as string, StringComparison.Ordinal);
    }

    private sealed class NullObserver : IToolLoopObserver
    {
        public void AssistantText(string text)
        {
        }

        public void ToolStarting(ToolCallRecord call)
        {
        }

        public void ToolFinished(ToolCallRecord call)
        {
        }
    }

    private sealed class FakeChatClient(Func<IReadOnlyList<ChatMessage>, int, ChatMessage> next) : IChatClient
    {
        public int Calls { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(next([.. messages], ++Calls)));

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
