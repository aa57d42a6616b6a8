using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace CodeInterpreterAgent.Offline;

/// <summary>
/// The offline "model": a fixed script of assistant messages with tool calls, used when no model is configured. It reads
/// the tool results it gets back (the chart must come back as an image, the web app's URL comes from <c>expose_port</c>)
/// and stops with an explanation when a step failed.
/// </summary>
internal sealed class ScriptedChatClient : IChatClient
{
    public const string UserPrompt =
        "Here are a year of monthly sales (data/sales.csv). Load them, find the revenue per region, draw a bar chart, " +
        "and put the results on a small web page I can open in a browser.";

    /// <summary>The second session's question (Agent Framework variant): does it see anything of the first session?</summary>
    public const string IsolationPrompt =
        "I am another user of the same agent. Is there anything in my sandbox from the other conversation: the Python variable " +
        "'rows' or the file data/sales.csv?";

    private readonly List<Func<ChatMessage>> _steps;
    private readonly List<Func<ChatMessage>> _isolationSteps;
    private IList<AITool>? _tools;
    private int _next;
    private int _isolationNext;
    private int _callCounter;

    public ScriptedChatClient()
    {
        _isolationSteps =
        [
            () => Say("Let me look for the other conversation's variable in my Python interpreter.",
                Call("run_code", "isolation_python", ("language", "python"), ("code", "print(f\"rows defined: {'rows' in globals()}\")"))),
            () => Say("And for its file in my workspace.",
                Call("run_code", "isolation_files", ("language", "bash"), ("code", "test -e data/sales.csv && echo 'data/sales.csv present' || echo 'no data/sales.csv here'"))),
            () => new ChatMessage(ChatRole.Assistant,
                $"This session starts empty: {IsolationPython?.Trim() ?? "?"}; {IsolationFiles?.Trim() ?? "?"}. Each session has its own sandbox."),
        ];
        _steps =
        [
            () => Say("I'll save the data as a CSV file in the sandbox first.",
                Call("write_file", ("path", ScriptSnippets.DataPath), ("content", SalesData.Csv()))),
            () => Say("Now I load it into a variable in the Python interpreter.",
                RunPython(ScriptSnippets.Load)),
            () => Say("The rows are loaded; the interpreter keeps them, so I can compute on them directly.",
                RunPython(ScriptSnippets.Analyse)),
            () => Say("Next, a bar chart of revenue per region.",
                RunPython(ScriptSnippets.Chart)),
            () => Say("Now a small web app that shows the table and the chart.",
                Call("write_file", ("path", "app.py"), ("content", ScriptSnippets.WebApp))),
            () => Say("Starting it on port 8000 and waiting until it answers.",
                RunPython(ScriptSnippets.StartWebApp)),
            () => Say("And opening the port so it can be reached from outside the sandbox.",
                Call("expose_port", ("port", ScriptSnippets.WebAppPort))),
            Finish,
        ];
    }

    /// <summary>The totals the analysis step printed (for the final answer).</summary>
    public string? AnalysisOutput { get; private set; }

    /// <summary>The browser URL <c>expose_port</c> returned.</summary>
    public string? BrowserUrl { get; private set; }

    /// <summary>The service URL <c>expose_port</c> returned.</summary>
    public string? ServiceUrl { get; private set; }

    /// <summary>What the second session's Python check printed.</summary>
    public string? IsolationPython { get; private set; }

    /// <summary>What the second session's file check printed.</summary>
    public string? IsolationFiles { get; private set; }

    /// <summary>Why the script stopped early, or null when it ran to the end.</summary>
    public string? FailureReason { get; private set; }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        List<ChatMessage> history = [.. messages];
        _tools = options?.Tools;
        bool isolation = history.FirstOrDefault(m => m.Role == ChatRole.User)?.Text == IsolationPrompt;

        // What came back since the script's last message: tool results, and images the pipeline moved into a user message.
        int lastAssistant = history.FindLastIndex(m => m.Role == ChatRole.Assistant);
        List<ChatMessage> since = lastAssistant < 0 ? [] : history[(lastAssistant + 1)..];
        bool imagesFollow = since.Any(m => m.Role == ChatRole.User && m.Contents.OfType<DataContent>().Any(d => d.HasTopLevelMediaType("image")));
        foreach (FunctionResultContent result in since.SelectMany(m => m.Contents).OfType<FunctionResultContent>())
        {
            if (Inspect(result, imagesFollow) is { } problem)
            {
                FailureReason = problem;
                _next = _steps.Count;
                _isolationNext = _isolationSteps.Count;
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"I have to stop here: {problem}")));
            }
        }

        List<Func<ChatMessage>> steps = isolation ? _isolationSteps : _steps;
        int next = isolation ? _isolationNext++ : _next++;
        return Task.FromResult(new ChatResponse(next < steps.Count
            ? steps[next]()
            : new ChatMessage(ChatRole.Assistant, "The script is finished.")));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ChatResponse response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (ChatResponseUpdate update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    /// <summary>Reads one tool result; returns what went wrong, or null.</summary>
    private string? Inspect(FunctionResultContent result, bool imagesFollow)
    {
        JsonElement? json = result.Result switch
        {
            JsonElement e => e,
            IEnumerable<AIContent> contents when contents.OfType<TextContent>().FirstOrDefault() is { } text => Parse(text.Text),
            // A result whose images were moved into the next user message: the JSON record, then a note line.
            string s => Parse(s.Split("\n[", 2)[0]),
            _ => null,
        };
        if (json is not { ValueKind: JsonValueKind.Object } record)
        {
            return $"the tool call {result.CallId} returned something unexpected: {result.Result ?? result.Exception?.Message}";
        }

        if (record.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.String)
        {
            return $"the tool reported an error: {error.GetString()}";
        }

        if (record.TryGetProperty("status", out JsonElement status) && status.GetString() != "ok")
        {
            string stderr = record.TryGetProperty("stderr", out JsonElement e) ? e.GetString() ?? "" : "";
            return $"the code ended with status '{status.GetString()}': {stderr.Trim()}";
        }

        string step = result.CallId.Split('-')[0];
        string? stdout = record.TryGetProperty("stdout", out JsonElement o) ? o.GetString() : null;
        switch (step)
        {
            case "analyse":
                AnalysisOutput = stdout;
                break;
            case "isolation_python":
                IsolationPython = stdout;
                break;
            case "isolation_files":
                IsolationFiles = stdout;
                break;
            case "chart":
                bool hasImage = imagesFollow || (result.Result is IEnumerable<AIContent> contents && contents.OfType<DataContent>().Any(d => d.HasTopLevelMediaType("image")));
                if (!hasImage)
                {
                    return "the chart did not come back as an image.";
                }

                break;
            case "expose_port":
                BrowserUrl = record.TryGetProperty("browser_url", out JsonElement b) ? b.GetString() : null;
                ServiceUrl = record.TryGetProperty("service_url", out JsonElement u) ? u.GetString() : null;
                if (BrowserUrl is null && ServiceUrl is null)
                {
                    return "expose_port returned no URL.";
                }

                break;
        }

        return null;
    }

    private ChatMessage Finish()
    {
        string totals = string.IsNullOrWhiteSpace(AnalysisOutput) ? "" : $"Revenue per region:\n{AnalysisOutput.TrimEnd()}\n\n";
        return new ChatMessage(ChatRole.Assistant,
            $"Done. {totals}The bar chart came back as an image, and the web page is up at:\n{BrowserUrl ?? ServiceUrl}");
    }

    private static ChatMessage Say(string text, FunctionCallContent call) =>
        new(ChatRole.Assistant, [new TextContent(text), call]);

    private FunctionCallContent RunPython(string code)
    {
        string step = code == ScriptSnippets.Analyse ? "analyse" : code == ScriptSnippets.Chart ? "chart" : "run_code";
        return Call("run_code", step, ("language", "python"), ("code", code));
    }

    private FunctionCallContent Call(string name, params (string Key, object Value)[] arguments) => Call(name, name, arguments);

    private FunctionCallContent Call(string name, string step, params (string Key, object Value)[] arguments)
    {
        var args = arguments.ToDictionary(a => a.Key, a => (object?)a.Value, StringComparer.Ordinal);
        string callId = string.Create(CultureInfo.InvariantCulture, $"{step}-{++_callCounter}");
        return new FunctionCallContent(callId, OfferedName(name), args);
    }

    // The tool as the framework offers it: "run_code", or "sandbox-run_code" under a Semantic Kernel plugin.
    private string OfferedName(string name) =>
        _tools?.Select(t => t.Name).FirstOrDefault(n => n == name || n.EndsWith("-" + name, StringComparison.Ordinal) || n.EndsWith("_" + name, StringComparison.Ordinal))
        ?? name;

    private static JsonElement? Parse(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
