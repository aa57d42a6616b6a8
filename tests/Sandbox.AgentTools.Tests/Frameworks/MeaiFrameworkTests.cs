using System.ClientModel;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// Microsoft.Extensions.AI as its docs show it: <c>UseFunctionInvocation()</c> over M.E.AI.OpenAI's chat client, against a
/// scripted loopback OpenAI-compatible server, with the tools running on the embedded local sandbox server.
/// </summary>
[Collection(LocalServerCollection.Name)]
public sealed class MeaiFrameworkTests(LocalServerFixture fixture) : IAsyncLifetime
{
    private FakeOpenAIServer _model = null!;

    public async ValueTask InitializeAsync() => _model = await FakeOpenAIServer.StartAsync();

    public async ValueTask DisposeAsync() => await _model.DisposeAsync();

    private IChatClient CreateChatClient() =>
        new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = _model.BaseUri })
            .GetChatClient("fake-model").AsIChatClient()
            .AsBuilder()
            .UseFunctionInvocation()
            .UseToolResultImages()
            .UseOpenTelemetry()
            .Build();

    private static ChatOptions OptionsFor(IList<AITool> tools, string conversationId) => new()
    {
        Tools = [.. tools],
        AdditionalProperties = new AdditionalPropertiesDictionary { [SandboxTools.ConversationIdKey] = conversationId },
    };

    [Fact]
    public async Task EveryTool_RunsInTheConversationsBox_ImagesArriveAsImageParts_OneSpanPerCall()
    {
        string conversation = "meai-all-" + Guid.NewGuid().ToString("N");
        using var capture = new SpanCapture(nameof(EveryTool_RunsInTheConversationsBox_ImagesArriveAsImageParts_OneSpanPerCall));
        try
        {
            FrameworkScript.EveryTool(_model, name => name);
            using IChatClient chat = CreateChatClient();
            ChatResponse response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "Sum data/nums.txt, plot, serve it.")],
                OptionsFor(SandboxTools.Create(fixture.Pool), conversation));

            Assert.Equal(FrameworkScript.FinalText, response.Text);
            FrameworkScript.AssertEveryTool(_model, capture, conversation, "meai");
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(conversation);
        }
    }

    [Fact]
    public async Task TwoConversations_SharingOneToolSet_DoNotSeeEachOthersVariablesOrFiles()
    {
        string a = "meai-a-" + Guid.NewGuid().ToString("N");
        string b = "meai-b-" + Guid.NewGuid().ToString("N");
        IList<AITool> tools = SandboxTools.Create(fixture.Pool);
        using IChatClient chat = CreateChatClient();
        try
        {
            FrameworkScript.IsolationA1(_model, name => name);
            await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "remember a secret")], OptionsFor(tools, a));
            FrameworkScript.IsolationB(_model, name => name);
            await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "what is the secret?")], OptionsFor(tools, b));
            FrameworkScript.IsolationA2(_model, name => name);
            await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "what is the secret?")], OptionsFor(tools, a));

            FrameworkScript.AssertIsolation(_model, "meai",
                $"conversation A = {a}, conversation B = {b}: one tool set, the id in ChatOptions.AdditionalProperties[\"sandbox.conversation_id\"]");
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
        string conversation = "meai-approval-" + Guid.NewGuid().ToString("N");
        using var capture = new SpanCapture(nameof(ExposePort_NeedsApproval_Refused_DoesNotRun));
        IList<AITool> tools = SandboxTools.Create(fixture.Pool, new SandboxToolOptions { RequireApprovalForExposePort = true });
        using IChatClient chat = CreateChatClient();
        try
        {
            _model.ReplyWithToolCalls(("call_expose", "expose_port", new { port = 8000 }));
            _model.ReplyWithText("Not exposed.");
            List<ChatMessage> history = [new ChatMessage(ChatRole.User, "publish port 8000")];
            ChatOptions options = OptionsFor(tools, conversation);
            ChatResponse first = await chat.GetResponseAsync(history, options);

            // The host is asked: FunctionInvokingChatClient returns the approval request instead of running the call.
            ToolApprovalRequestContent request = Assert.Single(first.Messages.SelectMany(m => m.Contents).OfType<ToolApprovalRequestContent>());
            Assert.Equal("expose_port", Assert.IsType<FunctionCallContent>(request.ToolCall).Name);
            history.AddRange(first.Messages);
            history.Add(new ChatMessage(ChatRole.User, [request.CreateResponse(approved: false, reason: "not now")]));
            ChatResponse second = await chat.GetResponseAsync(history, options);

            Assert.Equal("Not exposed.", second.Text);
            string toolMessage = RecordedRequests.ToolMessage(_model.Requests[^1], "call_expose")!;
            Assert.DoesNotContain("service_url", toolMessage, StringComparison.Ordinal);
            Assert.Contains("reject", toolMessage, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(capture.Spans, s => s.GetTagItem("sandbox.name") is not null);
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(conversation);
        }
    }

    [Fact]
    public async Task NoConversation_IsRefused_WithoutTouchingABox()
    {
        using var capture = new SpanCapture(nameof(NoConversation_IsRefused_WithoutTouchingABox));
        _model.ReplyWithToolCalls(("call_run", "run_code", new { code = "print(1)" }));
        _model.ReplyWithText("Could not run.");
        using IChatClient chat = CreateChatClient();
        await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "run")], new ChatOptions { Tools = [.. SandboxTools.Create(fixture.Pool)] });

        JsonElement record = RecordedRequests.ToolRecord(_model.Requests, "call_run");
        Assert.Equal("no_conversation", record.GetProperty("error_type").GetString());
        Assert.Contains("ConversationResolver", record.GetProperty("hint").GetString());
        Activity span = Assert.Single(capture.ToolSpans);
        Assert.Null(span.GetTagItem("sandbox.name"));
        Assert.Equal("call_run", span.GetTagItem("gen_ai.tool.call.id"));
    }

    [Fact]
    public async Task WithoutTheFrameworksSpan_TheToolOpensOne_WithTheCallIdFromTheInvocation()
    {
        string conversation = "meai-own-span-" + Guid.NewGuid().ToString("N");
        using var capture = new SpanCapture(nameof(WithoutTheFrameworksSpan_TheToolOpensOne_WithTheCallIdFromTheInvocation));
        try
        {
            _model.ReplyWithToolCalls(("call_one", "run_code", new { code = "print(6 * 7)" }));
            _model.ReplyWithText("42");
            using IChatClient chat = new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = _model.BaseUri })
                .GetChatClient("fake-model").AsIChatClient().AsBuilder().UseFunctionInvocation().Build();
            await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "6*7?")], OptionsFor(SandboxTools.Create(fixture.Pool), conversation));

            Activity span = Assert.Single(capture.ToolSpans);
            Assert.Equal("Sandbox.AgentTools", span.Source.Name);
            Assert.Equal("execute_tool run_code", span.DisplayName);
            Assert.Equal("call_one", span.GetTagItem("gen_ai.tool.call.id"));
            Assert.Equal("42\n", RecordedRequests.ToolRecord(_model.Requests, "call_one").GetProperty("stdout").GetString());
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(conversation);
        }
    }
}
