using System.Text.Json;
using CodeInterpreterAgent;
using CodeInterpreterAgent.Agent;

namespace Samples.Tests;

[Collection(SamplesCollection.Name)]
public sealed class ModelModeTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("agent-model-").FullName;

    [Fact]
    public async Task OpenAICompatibleModel_GetsToolSchemasAndToolResults_AndItsToolCallsRunInTheSandbox()
    {
        await using FakeOpenAIServer model = await FakeOpenAIServer.StartAsync((request, number) => number == 1
            ? FakeOpenAIServer.Completion(new
            {
                role = "assistant",
                content = (string?)null,
                tool_calls = new[]
                {
                    new { id = "call_1", type = "function", function = new { name = "run_code", arguments = """{"language":"python","code":"answer = 6 * 7\nprint(answer)"}""" } },
                },
            }, "tool_calls")
            : FakeOpenAIServer.Completion(new { role = "assistant", content = "The answer is 42." }, "stop"));
        var env = new Dictionary<string, string?>
        {
            ["OPENAI_API_KEY"] = "sk-test-secret",
            ["OPENAI_BASE_URL"] = model.BaseUrl.ToString(),
            ["OPENAI_MODEL"] = "fake-model",
        };
        var settings = new AgentSettings { OutputDirectory = _output, Prompt = "What is 6 times 7? Use python.", MaxIterations = 4 };
        using var writer = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        int exitCode = await new AgentSession(settings, Program.CreateConsole(writer), name => env.GetValueOrDefault(name), TimeProvider.System)
            .RunAsync(timeout.Token);
        string text = writer.ToString();
        log.WriteLine(text);

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{text}");
        Assert.DoesNotContain("offline scripted conversation", text, StringComparison.Ordinal);
        Assert.Contains("model: fake-model at " + model.BaseUrl, text, StringComparison.Ordinal);
        Assert.Contains("assistant The answer is 42.", text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-test-secret", text, StringComparison.Ordinal);

        Assert.Equal(2, model.Requests.Count);
        JsonElement first = model.Requests[0];
        Assert.Equal("fake-model", first.GetProperty("model").GetString());
        var tools = first.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("function")).ToList();
        Assert.Equal(["run_code", "write_file", "read_file", "list_files", "expose_port"], tools.Select(t => t.GetProperty("name").GetString()));
        JsonElement runCode = tools[0].GetProperty("parameters");
        Assert.Equal("string", runCode.GetProperty("properties").GetProperty("code").GetProperty("type").GetString());

        // The second request carries the assistant's tool call and the real result from the sandbox.
        var messages = model.Requests[1].GetProperty("messages").EnumerateArray().ToList();
        JsonElement call = messages.Single(m => m.GetProperty("role").GetString() == "assistant").GetProperty("tool_calls")[0];
        Assert.Equal("call_1", call.GetProperty("id").GetString());
        JsonElement toolMessage = messages.Single(m => m.GetProperty("role").GetString() == "tool");
        Assert.Equal("call_1", toolMessage.GetProperty("tool_call_id").GetString());
        string content = toolMessage.GetProperty("content").ValueKind == JsonValueKind.String
            ? toolMessage.GetProperty("content").GetString()!
            : toolMessage.GetProperty("content")[0].GetProperty("text").GetString()!;
        using JsonDocument result = JsonDocument.Parse(content);
        Assert.Equal("ok", result.RootElement.GetProperty("status").GetString());
        Assert.Equal("42", result.RootElement.GetProperty("stdout").GetString()!.Trim());
    }

    [Fact]
    public async Task WithALangSmithKey_TheRunIsExportedOverOtlp_AgentModelAndToolSpans()
    {
        await using OtlpReceiver receiver = await OtlpReceiver.StartAsync();
        await using FakeOpenAIServer model = await FakeOpenAIServer.StartAsync((request, number) => number == 1
            ? FakeOpenAIServer.Completion(new
            {
                role = "assistant",
                tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "run_code", arguments = """{"language":"bash","code":"echo traced"}""" } } },
            }, "tool_calls")
            : FakeOpenAIServer.Completion(new { role = "assistant", content = "done" }, "stop"));
        var env = new Dictionary<string, string?>
        {
            ["OPENAI_BASE_URL"] = model.BaseUrl.ToString(),
            ["OPENAI_MODEL"] = "fake-model",
            ["LANGSMITH_API_KEY"] = "ls-test-key",
            ["LANGSMITH_ENDPOINT"] = receiver.Endpoint,
            ["LANGSMITH_PROJECT"] = "samples-tests",
        };
        var settings = new AgentSettings { OutputDirectory = _output, Prompt = "echo something", MaxIterations = 4 };
        using var writer = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        int exitCode = await new AgentSession(settings, Program.CreateConsole(writer), name => env.GetValueOrDefault(name), TimeProvider.System)
            .RunAsync(timeout.Token);
        log.WriteLine(writer.ToString());

        Assert.Equal(0, exitCode);
        Assert.Contains("exporting spans to LangSmith over OTLP", writer.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("ls-test-key", writer.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(receiver.Exports);
        Assert.All(receiver.Exports, e => Assert.Equal("ls-test-key", e.ApiKey));
        string spans = string.Concat(receiver.Exports.Select(e => System.Text.Encoding.UTF8.GetString(e.Body)));
        Assert.Contains("invoke_agent code-interpreter", spans, StringComparison.Ordinal);
        Assert.Contains("chat fake-model", spans, StringComparison.Ordinal);
        Assert.Contains("execute_tool run_code", spans, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModelAsksToExposeAPort_WithNoOneToAsk_IsRefused_AndTheModelIsToldSo()
    {
        await using FakeOpenAIServer model = await FakeOpenAIServer.StartAsync((request, number) => number == 1
            ? FakeOpenAIServer.Completion(new
            {
                role = "assistant",
                tool_calls = new[] { new { id = "call_9", type = "function", function = new { name = "expose_port", arguments = """{"port":8000}""" } } },
            }, "tool_calls")
            : FakeOpenAIServer.Completion(new { role = "assistant", content = "Understood, I will not publish it." }, "stop"));
        var env = new Dictionary<string, string?> { ["OPENAI_BASE_URL"] = model.BaseUrl.ToString(), ["OPENAI_MODEL"] = "fake-model" };
        var settings = new AgentSettings { OutputDirectory = _output, Prompt = "publish port 8000", MaxIterations = 4 };
        using var writer = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        int exitCode = await new AgentSession(settings, Program.CreateConsole(writer), name => env.GetValueOrDefault(name), TimeProvider.System)
            .RunAsync(timeout.Token);
        string text = writer.ToString();
        log.WriteLine(text);

        Assert.Equal(0, exitCode);
        Assert.Contains("approval expose_port: publish port 8000 of the sandbox at a URL: refused (no interactive console to ask; run with --yes to allow)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("> tool #1 expose_port", text, StringComparison.Ordinal);
        Assert.Contains("web app URL:  (none)", text, StringComparison.Ordinal);
        // The model got a tool result for its call that says it was rejected.
        Assert.Equal(2, model.Requests.Count);
        JsonElement toolMessage = model.Requests[1].GetProperty("messages").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "tool");
        Assert.Equal("call_9", toolMessage.GetProperty("tool_call_id").GetString());
        Assert.Contains("rejected", toolMessage.GetProperty("content").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableModel_ExitsNonZeroWithAHintAndNoKey()
    {
        var env = new Dictionary<string, string?> { ["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1", ["OPENAI_API_KEY"] = "sk-never-printed" };
        var settings = new AgentSettings { OutputDirectory = _output, Prompt = "hello", MaxIterations = 2 };
        using var writer = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        int exitCode = await new AgentSession(settings, Program.CreateConsole(writer), name => env.GetValueOrDefault(name), TimeProvider.System)
            .RunAsync(timeout.Token);
        string text = writer.ToString();
        log.WriteLine(text);

        Assert.Equal(1, exitCode);
        Assert.Contains("the model call failed", text, StringComparison.Ordinal);
        Assert.Contains("--offline", text, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-never-printed", text, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_output, recursive: true);
}
