using System.ClientModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>
/// Microsoft.Extensions.AI over M.E.AI.OpenAI's Responses client (<c>ResponsesClient.AsIChatClient()</c>) against the fake
/// server's <c>/v1/responses</c>. The Responses API takes images inside a <c>function_call_output</c> (an array of
/// <c>input_text</c>/<c>input_image</c>); M.E.AI.OpenAI sends them there when the tool result is a list of contents.
/// <c>UseToolResultImages()</c> moves them into a user message instead (the form chat completions needs).
/// </summary>
[Collection(LocalServerCollection.Name)]
public sealed class MeaiResponsesTests(LocalServerFixture fixture) : IAsyncLifetime
{
    private FakeOpenAIServer _model = null!;

    public async ValueTask InitializeAsync() => _model = await FakeOpenAIServer.StartAsync();

    public async ValueTask DisposeAsync() => await _model.DisposeAsync();

    private IChatClient CreateChatClient(bool moveImages)
    {
        ChatClientBuilder builder = new OpenAIClient(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = _model.BaseUri })
            .GetResponsesClient().AsIChatClient("fake-model")
            .AsBuilder()
            .UseFunctionInvocation();
        if (moveImages)
        {
            builder.UseToolResultImages();
        }

        return builder.UseOpenTelemetry().Build();
    }

    private async Task<JsonObject> RunPlotAsync(bool moveImages, string name)
    {
        string conversation = "meai-responses-" + Guid.NewGuid().ToString("N");
        using var capture = new SpanCapture(name);
        try
        {
            _model.ReplyWithToolCalls(("call_write", "write_file", new { path = "data/nums.txt", content = "1\n2\n3\n" }));
            _model.ReplyWithToolCalls(("call_plot", "run_code", new { code = FrameworkTestKit.PythonDrawsPng }));
            _model.ReplyWithText(FrameworkScript.FinalText);
            using IChatClient chat = CreateChatClient(moveImages);
            ChatResponse response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "Sum data/nums.txt and plot it.")], new ChatOptions
            {
                Tools = [.. SandboxTools.Create(fixture.Pool)],
                AdditionalProperties = new AdditionalPropertiesDictionary { [SandboxTools.ConversationIdKey] = conversation },
            });

            Assert.Equal(FrameworkScript.FinalText, response.Text);
            Assert.Equal(0, _model.Pending);
            IReadOnlyList<Activity> toolSpans = capture.ToolSpans;
            Assert.Equal(["call_plot", "call_write"], toolSpans.Select(s => s.GetTagItem("gen_ai.tool.call.id") as string).Order(StringComparer.Ordinal));
            Assert.All(toolSpans, s => Assert.Equal(conversation, s.GetTagItem("sandbox.conversation.id")));
            string variant = moveImages ? "meai-responses" : "meai-responses-native";
            JsonObject request = _model.Requests.First(r => RecordedRequests.FunctionCallOutput(r, "call_plot") is not null);
            FrameworkTestKit.WriteEvidence($"{variant}-image-request.json", FrameworkTestKit.Excerpt(request));
            FrameworkTestKit.WriteEvidence($"{variant}-spans.txt", FrameworkTestKit.SpanList(capture.Spans));
            return request;
        }
        finally
        {
            await fixture.Pool.ReleaseConversationAsync(conversation);
        }
    }

    private static void AssertJsonRecord(string text)
    {
        Assert.True(text.Length < 4096, $"tool output text is {text.Length} chars");
        Assert.DoesNotContain("iVBOR", text, StringComparison.Ordinal);
        JsonElement record = JsonDocument.Parse(text[..(text.LastIndexOf('}') + 1)]).RootElement;
        Assert.Contains("total=6", record.GetProperty("stdout").GetString(), StringComparison.Ordinal);
    }

    private static void AssertPngDataUrl(JsonObject part)
    {
        string url = part["image_url"]!.GetValue<string>();
        Assert.StartsWith("data:image/png;base64,", url, StringComparison.Ordinal);
        Assert.True(url.Length > 150_000, $"the whole PNG is sent ({url.Length} chars)");
    }

    [Fact]
    public async Task WithUseToolResultImages_TheOutputIsTheJsonRecord_AndTheImageFollowsAsAnInputImage()
    {
        JsonObject request = await RunPlotAsync(moveImages: true, nameof(WithUseToolResultImages_TheOutputIsTheJsonRecord_AndTheImageFollowsAsAnInputImage));

        JsonObject output = RecordedRequests.FunctionCallOutput(request, "call_plot")!;
        AssertJsonRecord(Assert.IsAssignableFrom<JsonValue>(output["output"]).GetValue<string>());
        JsonObject user = Assert.Single(RecordedRequests.InputAfter(request, "call_plot"),
            i => i["role"]?.GetValue<string>() == "user");
        JsonObject image = Assert.Single(user["content"]!.AsArray().OfType<JsonObject>(), p => p["type"]?.GetValue<string>() == "input_image");
        AssertPngDataUrl(image);
    }

    [Fact]
    public async Task WithoutIt_TheImageIsAnInputImageInsideTheFunctionCallOutput_NextToTheJsonRecord()
    {
        JsonObject request = await RunPlotAsync(moveImages: false, nameof(WithoutIt_TheImageIsAnInputImageInsideTheFunctionCallOutput_NextToTheJsonRecord));

        JsonArray parts = Assert.IsType<JsonArray>(RecordedRequests.FunctionCallOutput(request, "call_plot")!["output"]);
        JsonObject text = Assert.Single(parts.OfType<JsonObject>(), p => p["type"]?.GetValue<string>() == "input_text");
        AssertJsonRecord(text["text"]!.GetValue<string>());
        AssertPngDataUrl(Assert.Single(parts.OfType<JsonObject>(), p => p["type"]?.GetValue<string>() == "input_image"));
        Assert.DoesNotContain(RecordedRequests.InputAfter(request, "call_plot"), i => i["role"]?.GetValue<string>() == "user");
    }
}
