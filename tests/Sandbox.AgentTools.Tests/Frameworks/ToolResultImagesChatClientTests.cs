using Microsoft.Extensions.AI;
using Moq;

namespace Sandbox.AgentTools.Tests.Frameworks;

public sealed class ToolResultImagesChatClientTests
{
    private static readonly byte[] Png = TestImages.Png;

    [Fact]
    public async Task ImagesOfParallelCalls_GoIntoOneUserMessage_AfterTheLastToolMessage_AndTheCallersHistoryIsUntouched()
    {
        IEnumerable<ChatMessage>? sent = null;
        var inner = new Mock<IChatClient>();
        inner.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Callback<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken>((m, _, _) => sent = m.ToList())
            .ReturnsAsync(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
        List<ChatMessage> history =
        [
            new(ChatRole.User, "plot twice"),
            new(ChatRole.Assistant, [new FunctionCallContent("c1", "run_code"), new FunctionCallContent("c2", "read_file")]),
            new(ChatRole.Tool, [new FunctionResultContent("c1", new List<AIContent> { new TextContent("{\"status\":\"ok\"}"), new DataContent(Png, "image/png") })]),
            new(ChatRole.Tool, [new FunctionResultContent("c2", new List<AIContent> { new TextContent("{\"kind\":\"image\"}"), new DataContent(Png, "image/png") })]),
        ];

        using IChatClient client = new ToolResultImagesChatClient(inner.Object);
        await client.GetResponseAsync(history);

        List<ChatMessage> messages = [.. sent!];
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool, ChatRole.Tool, ChatRole.User], messages.Select(m => m.Role));
        Assert.Equal("{\"status\":\"ok\"}\n[1 image attached in the next user message]",
            Assert.IsType<string>(messages[2].Contents.OfType<FunctionResultContent>().Single().Result));
        Assert.Equal(2, messages[4].Contents.OfType<DataContent>().Count());
        Assert.Contains("run_code call c1", messages[4].Contents.OfType<TextContent>().First().Text, StringComparison.Ordinal);
        Assert.IsType<List<AIContent>>(history[2].Contents.OfType<FunctionResultContent>().Single().Result);
        Assert.Equal(4, history.Count);
    }

    [Fact]
    public async Task WithoutImages_TheMessagesPassThroughAsTheyAre()
    {
        IEnumerable<ChatMessage>? sent = null;
        var inner = new Mock<IChatClient>();
        inner.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Callback<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken>((m, _, _) => sent = m)
            .ReturnsAsync(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
        List<ChatMessage> history = [new(ChatRole.User, "hi"), new(ChatRole.Tool, [new FunctionResultContent("c1", "{\"status\":\"ok\"}")])];

        using IChatClient client = new ChatClientBuilder(inner.Object).UseToolResultImages().Build();
        await client.GetResponseAsync(history);

        Assert.Same(history, sent);
    }
}
