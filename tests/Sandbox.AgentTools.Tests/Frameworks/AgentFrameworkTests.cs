using System.ClientModel;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// Agent Framework as its docs show it: one <see cref="ChatClientAgent"/> with the tools, several sessions, against a scripted
/// loopback OpenAI-compatible server; the tools run on the embedded local sandbox server.
/// </summary>
[Collection(LocalServerCollection.Name)]
public sealed class AgentFrameworkTests(LocalServerFixture fixture) : IAsyncLifetime
{
    private FakeOpenAIServer _model = null!;

    public async ValueTask InitializeAsync() => _model = await FakeOpenAIServer.StartAsync();

    public async ValueTask DisposeAsync() => await _model.DisposeAsync();

    private AIAgent CreateAgent(SandboxToolOptions? options = null)
    {
        IChatClient chat = new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = _model.BaseUri })
            .GetChatClient("fake-model").AsIChatClient()
            .AsBuilder()
            .UseFunctionInvocation()
            .UseToolResultImages()
            .UseOpenTelemetry()
            .Build();
        return new ChatClientAgent(chat, instructions: "You analyse data with the sandbox tools.", name: "analyst",
                tools: [.. SandboxTools.Create(fixture.Pool, options)])
            .AsBuilder()
            .UseOpenTelemetry()
            .Build();
    }

    [Fact]
    public async Task EveryTool_RunsInTheSessionsBox_ImagesArriveAsImageParts_OneSpanPerCall()
    {
        AIAgent agent = CreateAgent();
        AgentSession session = await agent.CreateSessionAsync();
        using var capture = new SpanCapture(nameof(EveryTool_RunsInTheSessionsBox_ImagesArriveAsImageParts_OneSpanPerCall));
        try
        {
            FrameworkScript.EveryTool(_model, name => name);
            AgentResponse response = await agent.RunAsync("Sum data/nums.txt, plot, serve it.", session);

            Assert.Equal(FrameworkScript.FinalText, response.Text);
            FrameworkScript.AssertEveryTool(_model, capture, SandboxConversation.Of(session), "agent-framework");
            Assert.All(capture.ToolSpans, s => Assert.Equal("agent_session", s.GetTagItem("sandbox.conversation.source")));
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(session);
        }
    }

    [Fact]
    public async Task TwoSessions_OfOneAgent_DoNotSeeEachOthersVariablesOrFiles()
    {
        AIAgent agent = CreateAgent();
        AgentSession a = await agent.CreateSessionAsync();
        AgentSession b = await agent.CreateSessionAsync();
        try
        {
            FrameworkScript.IsolationA1(_model, name => name);
            await agent.RunAsync("remember a secret", a);
            FrameworkScript.IsolationB(_model, name => name);
            await agent.RunAsync("what is the secret?", b);
            FrameworkScript.IsolationA2(_model, name => name);
            await agent.RunAsync("what is the secret?", a);

            Assert.NotEqual(SandboxConversation.Of(a), SandboxConversation.Of(b));
            FrameworkScript.AssertIsolation(_model, "agent-framework",
                $"one ChatClientAgent, one tool set, two sessions: A = {SandboxConversation.Of(a)}, B = {SandboxConversation.Of(b)} (ids from the sessions' StateBag)");
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(a);
            await fixture.Pool.ReleaseConversationAsync(b);
        }
    }

    [Fact]
    public async Task ASerializedSession_KeepsItsBox()
    {
        AIAgent agent = CreateAgent();
        AgentSession session = await agent.CreateSessionAsync();
        try
        {
            _model.ReplyWithToolCalls(("s_set", "run_code", new { code = "kept = 42\nprint('ok')" }));
            _model.ReplyWithText("set");
            await agent.RunAsync("set", session);
            var saved = await agent.SerializeSessionAsync(session);
            AgentSession restored = await agent.DeserializeSessionAsync(saved);

            _model.ReplyWithToolCalls(("s_get", "run_code", new { code = "print(kept)" }));
            _model.ReplyWithText("got");
            await agent.RunAsync("get", restored);

            Assert.Equal("42\n", RecordedRequests.ToolRecord(_model.Requests, "s_get").GetProperty("stdout").GetString());
            Assert.Equal(SandboxConversation.Of(session), SandboxConversation.Of(restored));
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(session);
        }
    }

    [Fact]
    public async Task ExposePort_NeedsApproval_Refused_DoesNotRun()
    {
        AIAgent agent = CreateAgent(new SandboxToolOptions { RequireApprovalForExposePort = true });
        AgentSession session = await agent.CreateSessionAsync();
        using var capture = new SpanCapture(nameof(ExposePort_NeedsApproval_Refused_DoesNotRun));
        try
        {
            _model.ReplyWithToolCalls(("call_expose", "expose_port", new { port = 8000 }));
            _model.ReplyWithText("Not exposed.");
            AgentResponse first = await agent.RunAsync("publish port 8000", session);

            ToolApprovalRequestContent request = Assert.Single(first.Messages.SelectMany(m => m.Contents).OfType<ToolApprovalRequestContent>());
            Assert.Equal("expose_port", Assert.IsType<FunctionCallContent>(request.ToolCall).Name);
            AgentResponse second = await agent.RunAsync(new ChatMessage(ChatRole.User, [request.CreateResponse(approved: false, reason: "not now")]), session);

            Assert.Equal("Not exposed.", second.Text);
            string toolMessage = RecordedRequests.ToolMessage(_model.Requests[^1], "call_expose")!;
            Assert.DoesNotContain("service_url", toolMessage, StringComparison.Ordinal);
            Assert.Contains("reject", toolMessage, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(capture.Spans, s => s.GetTagItem("sandbox.name") is not null);
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(session);
        }
    }
}
