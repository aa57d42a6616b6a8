using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.AgentTools.Tests.Frameworks;

/// <summary>The scripted model turns every framework test plays, and what they must show.</summary>
internal static class FrameworkScript
{
    public const string FinalText = "Done: the total is 6.";

    /// <summary>Every tool, one or two per round: write_file, run_code (python, draws a PNG), read_file + list_files, run_code (bash server), expose_port.</summary>
    public static void EveryTool(FakeOpenAIServer model, Func<string, string> name)
    {
        model.ReplyWithToolCalls(("call_write", name("write_file"), new { path = "data/nums.txt", content = "1\n2\n3\n" }));
        model.ReplyWithToolCalls(("call_plot", name("run_code"), new { code = FrameworkTestKit.PythonDrawsPng }));
        model.ReplyWithToolCalls(("call_read", name("read_file"), new { path = "data/nums.txt" }), ("call_list", name("list_files"), new { }));
        model.ReplyWithToolCalls(("call_serve", name("run_code"),
            new { language = "bash", code = "nohup python3 -m http.server 8000 --bind 0.0.0.0 > /tmp/http.log 2>&1 &" }));
        model.ReplyWithToolCalls(("call_expose", name("expose_port"), new { port = 8000 }));
        model.ReplyWithText(FinalText);
    }

    public static void AssertEveryTool(FakeOpenAIServer model, SpanCapture capture, string? conversation, string framework)
    {
        IReadOnlyList<JsonObject> requests = model.Requests;
        Assert.Equal(0, model.Pending);
        Assert.Equal(6, RecordedRequests.ToolRecord(requests, "call_write").GetProperty("bytes_written").GetInt64());
        JsonElement plot = RecordedRequests.ToolRecord(requests, "call_plot");
        Assert.Contains("total=6", plot.GetProperty("stdout").GetString());
        Assert.Equal("1\n2\n3\n", RecordedRequests.ToolRecord(requests, "call_read").GetProperty("content").GetString());
        Assert.Contains(RecordedRequests.ToolRecord(requests, "call_list").GetProperty("entries").EnumerateArray(),
            e => e.GetProperty("path").GetString() == "data/nums.txt");
        Assert.Equal("ok", RecordedRequests.ToolRecord(requests, "call_serve").GetProperty("status").GetString());
        JsonElement exposed = RecordedRequests.ToolRecord(requests, "call_expose");
        Assert.True(exposed.TryGetProperty("service_url", out JsonElement serviceUrl), exposed.GetRawText());
        Assert.StartsWith("http", serviceUrl.GetString());

        // The image: a user message of image parts right after the tool messages; the tool message is the JSON record only.
        JsonObject afterPlot = RecordedRequests.AnsweringRequest(requests, "call_plot");
        IReadOnlyList<JsonObject> images = RecordedRequests.ImagePartsAfter(afterPlot, "call_plot");
        string url = Assert.Single(images)["image_url"]!["url"]!.GetValue<string>();
        Assert.StartsWith("data:image/png;base64,", url, StringComparison.Ordinal);
        Assert.True(url.Length > 150_000, $"the whole PNG is sent ({url.Length} chars)");
        string toolMessage = RecordedRequests.ToolMessage(afterPlot, "call_plot")!;
        Assert.True(toolMessage.Length < 4096, $"tool message is {toolMessage.Length} chars");
        Assert.DoesNotContain("iVBOR", toolMessage, StringComparison.Ordinal);

        // One execute_tool span per call, carrying the model's call id and the LangSmith attributes.
        IReadOnlyList<System.Diagnostics.Activity> toolSpans = capture.ToolSpans;
        Assert.Equal(["call_expose", "call_list", "call_plot", "call_read", "call_serve", "call_write"],
            toolSpans.Select(s => s.GetTagItem("gen_ai.tool.call.id") as string).Order(StringComparer.Ordinal));
        Assert.All(toolSpans, s => Assert.Equal("tool", s.GetTagItem("langsmith.span.kind")));
        Assert.All(toolSpans, s => Assert.NotNull(s.GetTagItem("sandbox.name")));
        if (conversation is not null)
        {
            Assert.All(toolSpans, s => Assert.Equal(conversation, s.GetTagItem("sandbox.conversation.id")));
        }

        Assert.Single(toolSpans.Select(s => s.GetTagItem("sandbox.conversation.id")).Distinct());

        FrameworkTestKit.WriteEvidence($"{framework}-image-request.json", FrameworkTestKit.Excerpt(afterPlot));
        FrameworkTestKit.WriteEvidence($"{framework}-spans.txt", FrameworkTestKit.SpanList(capture.Spans));
    }

    /// <summary>Conversation A, first turn: a Python variable and a file.</summary>
    public static void IsolationA1(FakeOpenAIServer model, Func<string, string> name)
    {
        model.ReplyWithToolCalls(("a_set", name("run_code"), new { code = "secret = 'only-in-A'\nprint('set')" }),
            ("a_file", name("write_file"), new { path = "mine.txt", content = "A's file" }));
        model.ReplyWithText("A is set.");
    }

    /// <summary>Conversation B looks for A's variable and file.</summary>
    public static void IsolationB(FakeOpenAIServer model, Func<string, string> name)
    {
        model.ReplyWithToolCalls(("b_get", name("run_code"), new { code = "print(secret)" }), ("b_file", name("read_file"), new { path = "mine.txt" }));
        model.ReplyWithText("B looked.");
    }

    /// <summary>Conversation A, second turn: its own state is still there.</summary>
    public static void IsolationA2(FakeOpenAIServer model, Func<string, string> name)
    {
        model.ReplyWithToolCalls(("a_get", name("run_code"), new { code = "print(secret)" }), ("a_read", name("read_file"), new { path = "mine.txt" }));
        model.ReplyWithText("A looked.");
    }

    public static void AssertIsolation(FakeOpenAIServer model, string framework, string setup)
    {
        IReadOnlyList<JsonObject> requests = model.Requests;
        Assert.Equal(0, model.Pending);
        JsonElement bGet = RecordedRequests.ToolRecord(requests, "b_get");
        JsonElement bFile = RecordedRequests.ToolRecord(requests, "b_file");
        JsonElement aGet = RecordedRequests.ToolRecord(requests, "a_get");
        JsonElement aRead = RecordedRequests.ToolRecord(requests, "a_read");
        Assert.Contains("NameError", bGet.GetProperty("stderr").GetString());
        Assert.Equal("not_found", bFile.GetProperty("error_type").GetString());
        Assert.Equal("only-in-A\n", aGet.GetProperty("stdout").GetString());
        Assert.Equal("A's file", aRead.GetProperty("content").GetString());
        FrameworkTestKit.WriteEvidence($"{framework}-isolation.txt",
            setup + "\n" +
            $"A run_code secret = 'only-in-A'; A write_file mine.txt\n" +
            $"B run_code print(secret) -> {FrameworkTestKit.Json(bGet)}\n" +
            $"B read_file mine.txt     -> {FrameworkTestKit.Json(bFile)}\n" +
            $"A run_code print(secret) -> {FrameworkTestKit.Json(aGet)}\n" +
            $"A read_file mine.txt     -> {FrameworkTestKit.Json(aRead)}\n");
    }
}
