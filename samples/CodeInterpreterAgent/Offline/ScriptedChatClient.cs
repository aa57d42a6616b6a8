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

    private readonly List<Func<ChatMessage>> _steps;
    private int _next;
    private int _callCounter;

    public ScriptedChatClient()
    {
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

    /// <summary>Why the script stopped early, or null when it ran to the end.</summary>
    public string? FailureReason { get; private set; }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ChatMessage? last = messages.LastOrDefault();
        if (last?.Role == ChatRole.Tool)
        {
            foreach (FunctionResultContent result in last.Contents.OfType<FunctionResultContent>())
            {
                if (Inspect(result) is { } problem)
                {
                    FailureReason = problem;
                    _next = _steps.Count;
                    return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"I have to stop here: {problem}")));
                }
            }
        }

        if (_next >= _steps.Count)
        {
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "The script is finished.")));
        }

        return Task.FromResult(new ChatResponse(_steps[_next++]()));
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
    private string? Inspect(FunctionResultContent result)
    {
        JsonElement? json = result.Result switch
        {
            JsonElement e => e,
            IEnumerable<AIContent> contents when contents.OfType<TextContent>().FirstOrDefault() is { } text => Parse(text.Text),
            _ => null,
        };
        if (json is not { ValueKind: JsonValueKind.Object } record)
        {
            return $"the tool call {result.CallId} returned something unexpected: {result.Result}";
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
        if (step == "analyse")
        {
            AnalysisOutput = record.GetProperty("stdout").GetString();
        }
        else if (step == "chart")
        {
            bool hasImage = result.Result is IEnumerable<AIContent> contents && contents.OfType<DataContent>().Any(d => d.HasTopLevelMediaType("image"));
            if (!hasImage)
            {
                return "the chart did not come back as an image.";
            }
        }
        else if (step == "expose_port")
        {
            BrowserUrl = record.TryGetProperty("browser_url", out JsonElement b) ? b.GetString() : null;
            ServiceUrl = record.TryGetProperty("service_url", out JsonElement s) ? s.GetString() : null;
            if (BrowserUrl is null && ServiceUrl is null)
            {
                return "expose_port returned no URL.";
            }
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
        return new FunctionCallContent(callId, name, args);
    }

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
