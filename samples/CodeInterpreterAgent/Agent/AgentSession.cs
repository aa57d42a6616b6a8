using System.Diagnostics;
using System.Globalization;
using CodeInterpreterAgent.Hosting;
using CodeInterpreterAgent.Models;
using CodeInterpreterAgent.Offline;
using CodeInterpreterAgent.Output;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using OpenTelemetry.Trace;
using Sandbox.AgentTools;
using Sandbox.Client;
using Spectre.Console;

namespace CodeInterpreterAgent.Agent;

/// <summary>One run of the sample: sandboxes up, the conversation, the checks and the summary.</summary>
internal sealed class AgentSession(AgentSettings settings, IAnsiConsole console, Func<string, string?> env, TimeProvider time)
{
    private readonly AgentConsole _ui = new(console);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        long started = time.GetTimestamp();
        ModelSettings? model = settings.Offline ? null : ModelSettings.FromEnvironment(env);
        console.Write(new Rule("[bold]Sandbox.AgentTools[/] code interpreter agent").LeftJustified());
        if (model is null)
        {
            console.Write(new Panel(new Markup("[bold yellow]offline scripted conversation (no model configured)[/]\n" +
                "[grey]The assistant messages below are a fixed script; the tools, the sandbox and everything they return are real.\n" +
                "Set OPENAI_API_KEY (and OPENAI_BASE_URL / OPENAI_MODEL for Ollama, vLLM or llama.cpp) to talk to a model.[/]"))
                .BorderColor(Color.Yellow));
        }
        else
        {
            _ui.Info($"model: {model}");
        }

        _ui.Info($"framework: {FrameworkDescription(settings.Framework)}");

        using TracerProvider? tracing = AgentTelemetry.StartExport(env);
        if (tracing is not null)
        {
            _ui.Info("tracing: exporting spans to LangSmith over OTLP (LANGSMITH_API_KEY is set)");
        }

        SandboxBackend backend;
        try
        {
            backend = await SandboxBackend.StartAsync(settings.Endpoint, settings.ApiKey, settings.Hosted, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _ui.Error($"could not reach the sandboxes: {ex.Message}");
            if (settings.Endpoint is null && !settings.Hosted)
            {
                _ui.Info("The embedded server needs Linux with bubblewrap: run 'bash eng/install-deps.sh' (or 'bash eng/run-sample.sh', which does).");
            }

            return 2;
        }

        await using (backend)
        {
            _ui.Info($"sandboxes: {backend.Description}");
            await using var pool = new SandboxLeasePool(backend.Client, new SandboxPoolOptions { MinIdle = 0, MaxBoxes = 2 });
            string conversationId = "code-interpreter-" + Guid.NewGuid().ToString("N")[..8];
            var toolOptions = new SandboxToolOptions { OnOutput = _ui.ToolOutput, RequireApprovalForExposePort = true };
            var tracker = new ToolCallTracker(_ui, time);
            var approvals = new Approvals(console, offline: model is null, settings.Yes);
            var scripted = model is null ? new ScriptedChatClient() : null;
            IChatClient modelClient = scripted ?? ChatPipeline.ForModel(model!);
            using IChatClient chat = ChatPipeline.Build(modelClient, tracker, _ui, settings.MaxIterations);

            string? answer;
            using (Activity? activity = AgentTelemetry.Source.StartActivity("invoke_agent code-interpreter"))
            {
                activity?.SetTag("gen_ai.operation.name", "invoke_agent");
                activity?.SetTag("gen_ai.conversation.id", conversationId);
                activity?.SetTag("langsmith.span.kind", "chain");
                try
                {
                    if (settings.Framework == AgentFramework.Agents)
                    {
                        // One tool set shared by the agent: each agent session gets its own box.
                        (answer, conversationId) = await ConverseWithAgentAsync(chat, SandboxTools.Create(pool, toolOptions), approvals, scripted, model, cancellationToken);
                    }
                    else if (settings.Framework == AgentFramework.Sk)
                    {
                        var kernelChat = new KernelConversation(modelClient, pool, toolOptions, approvals, tracker, _ui);
                        conversationId = kernelChat.ConversationId;
                        _ui.Info($"chat history (conversation {conversationId})");
                        answer = await kernelChat.TurnAsync(FirstPrompt(model), cancellationToken);
                    }
                    else
                    {
                        answer = await ConverseAsync(chat, SandboxTools.Create(pool, conversationId, toolOptions), approvals, model, cancellationToken);
                    }
                }
                catch (Exception ex) when (model is not null && ex is not OperationCanceledException)
                {
                    // The model endpoint failed (unreachable, unknown model, bad key): say so plainly and stop.
                    activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
                    _ui.Error($"the model call failed ({ex.GetType().Name}): {ex.Message}");
                    _ui.Info("Check OPENAI_BASE_URL / OPENAI_MODEL / OPENAI_API_KEY, or run with --offline for the scripted conversation.");
                    return 1;
                }
            }

            string? boxName = await FindBoxAsync(pool, conversationId, tracker.Calls, cancellationToken);
            List<SavedImage> images = SaveImages(tracker.Calls);
            string? webUrl = scripted?.BrowserUrl
                ?? tracker.Calls.LastOrDefault(c => c.Name == "expose_port" && !c.IsError)?.GetResultString("browser_url");
            WebAppCheck? web = null;
            string? webError = null;
            if (webUrl is not null)
            {
                try
                {
                    web = await WebAppProbe.FetchAsync(webUrl, cancellationToken);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    webError = ex.Message;
                }
            }

            TimeSpan elapsed = time.GetElapsedTime(started);
            var problems = new List<string>();
            if (model is null)
            {
                CheckOfflineRun(scripted!, tracker.Calls, images, web, webError, problems);
            }
            else if (answer is null)
            {
                problems.Add($"the model did not finish within {settings.MaxIterations} calls");
            }

            WriteSummary(tracker.Calls, boxName, pool.GetStatistics(), images, web, webUrl, elapsed, backend.Description);
            if (settings.KeepAlive && webUrl is not null)
            {
                console.MarkupLine("[yellow]The web app stays up until you press Enter.[/]");
                await Task.Run(() => System.Console.ReadLine(), cancellationToken).WaitAsync(cancellationToken);
            }

            if (problems.Count > 0)
            {
                foreach (string problem in problems)
                {
                    _ui.Error(problem);
                }

                console.MarkupLine("[bold red]FAILED[/]");
                return 1;
            }

            console.MarkupLine("[bold green]OK[/] [grey]everything ran in the sandbox and answered as expected[/]");
            return 0;
        }
    }

    /// <summary>Microsoft.Extensions.AI: the pipeline's function invocation runs the tools; approvals are answered by the host.</summary>
    private async Task<string?> ConverseAsync(IChatClient chat, IList<AITool> tools, Approvals approvals, ModelSettings? model, CancellationToken cancellationToken)
    {
        var history = new List<ChatMessage> { new(ChatRole.System, Prompts.System) };
        var options = new ChatOptions { Tools = [.. tools], ToolMode = ChatToolMode.Auto };
        async Task<string?> TurnAsync()
        {
            ChatResponse response = await chat.GetResponseAsync(history, options, cancellationToken);
            history.AddMessages(response);
            while (await approvals.AnswerAsync(response.Messages, cancellationToken) is { Count: > 0 } answers)
            {
                history.Add(new ChatMessage(ChatRole.User, answers));
                response = await chat.GetResponseAsync(history, options, cancellationToken);
                history.AddMessages(response);
            }

            return ChatPipeline.Finished(response.Messages) ? response.Text : Unfinished();
        }

        string first = FirstPrompt(model);
        history.Add(new ChatMessage(ChatRole.User, first));
        string? answer = await TurnAsync();
        while (model is not null && settings.Interactive && answer is not null)
        {
            string next = await new TextPrompt<string>("[green]you[/] (empty line to finish)").AllowEmpty().ShowAsync(console, cancellationToken);
            if (string.IsNullOrWhiteSpace(next))
            {
                break;
            }

            history.Add(new ChatMessage(ChatRole.User, next));
            answer = await TurnAsync();
        }

        return answer;
    }

    /// <summary>
    /// Agent Framework: a <see cref="ChatClientAgent"/> over the same pipeline, and two sessions of it, as two users of one
    /// agent would have: the task runs in session A, then session B asks what it can see of A. Returns A's answer and conversation.
    /// </summary>
    private async Task<(string? Answer, string ConversationId)> ConverseWithAgentAsync(IChatClient chat, IList<AITool> tools, Approvals approvals,
        ScriptedChatClient? scripted, ModelSettings? model, CancellationToken cancellationToken)
    {
        AIAgent agent = new ChatClientAgent(chat, instructions: Prompts.System, name: "code-interpreter", tools: [.. tools]);
        async Task<string?> TurnAsync(Microsoft.Agents.AI.AgentSession session, string message)
        {
            AgentResponse response = await agent.RunAsync(message, session, cancellationToken: cancellationToken);
            while (await approvals.AnswerAsync(response.Messages, cancellationToken) is { Count: > 0 } answers)
            {
                response = await agent.RunAsync(new ChatMessage(ChatRole.User, answers), session, cancellationToken: cancellationToken);
            }

            return ChatPipeline.Finished(response.Messages) ? response.Text : Unfinished();
        }

        Microsoft.Agents.AI.AgentSession a = await agent.CreateSessionAsync(cancellationToken);
        _ui.Info($"agent session A (conversation {SandboxConversation.Of(a)})");
        string? answer = await TurnAsync(a, FirstPrompt(model));

        Microsoft.Agents.AI.AgentSession b = await agent.CreateSessionAsync(cancellationToken);
        _ui.Info($"agent session B (conversation {SandboxConversation.Of(b)}): another user of the same agent and the same tools");
        string isolation = scripted is null ? Prompts.IsolationCheck : ScriptedChatClient.IsolationPrompt;
        _ui.User(isolation);
        await TurnAsync(b, isolation);
        return (answer, SandboxConversation.Of(a));
    }

    private string FirstPrompt(ModelSettings? model)
    {
        if (model is null)
        {
            _ui.User(ScriptedChatClient.UserPrompt);
            return ScriptedChatClient.UserPrompt;
        }

        _ui.User(settings.Prompt ?? Prompts.DefaultTask + " [CSV attached]");
        return settings.Prompt ?? Prompts.DefaultTask + "\n\n```csv\n" + SalesData.Csv() + "```";
    }

    private string? Unfinished()
    {
        _ui.AssistantText($"(stopped after {settings.MaxIterations} model calls without a final answer)");
        return null;
    }

    private static string FrameworkDescription(AgentFramework framework) => framework switch
    {
        AgentFramework.Agents => "Agent Framework (ChatClientAgent, two sessions) over Microsoft.Extensions.AI: UseFunctionInvocation, UseToolResultImages, UseOpenTelemetry",
        AgentFramework.Sk => "Semantic Kernel: Kernel with the sandbox plugin and its filter, IChatCompletionService with FunctionChoiceBehavior.Auto()",
        _ => "Microsoft.Extensions.AI: ChatClientBuilder with UseFunctionInvocation, UseToolResultImages, UseOpenTelemetry",
    };

    private static async Task<string?> FindBoxAsync(SandboxLeasePool pool, string conversationId, List<ToolCallRecord> calls, CancellationToken cancellationToken)
    {
        if (calls.Count == 0)
        {
            return null;
        }

        // The pool gives the conversation its own box; renting by the same id hands back that box.
        try
        {
            await using SandboxLease lease = await pool.RentAsync(conversationId, cancellationToken);
            return lease.Sandbox.Name;
        }
        catch (SandboxException)
        {
            return null;
        }
    }

    private List<SavedImage> SaveImages(IEnumerable<ToolCallRecord> calls)
    {
        var saved = new List<SavedImage>();
        foreach (ToolCallRecord call in calls)
        {
            foreach (DataContent image in call.Images)
            {
                Directory.CreateDirectory(settings.OutputDirectory);
                string extension = image.MediaType switch { "image/png" => ".png", "image/jpeg" => ".jpg", "image/svg+xml" => ".svg", _ => ".bin" };
                string name = Path.GetFileNameWithoutExtension(image.Name ?? "image");
                string file = Path.Combine(settings.OutputDirectory, $"{call.Number:00}-{Sanitize(name)}{extension}");
                File.WriteAllBytes(file, image.Data.ToArray());
                saved.Add(new SavedImage(Path.GetFullPath(file), image.MediaType, image.Data.Length, PngInfo.TryRead(image.Data.Span)));
            }
        }

        return saved;
    }

    private void CheckOfflineRun(ScriptedChatClient script, List<ToolCallRecord> calls, List<SavedImage> images, WebAppCheck? web, string? webError, List<string> problems)
    {
        if (script.FailureReason is { } reason)
        {
            problems.Add("the scripted conversation stopped: " + reason);
        }

        if (settings.Framework == AgentFramework.Agents
            && (script.IsolationPython?.Trim() != "rows defined: False" || script.IsolationFiles?.Trim() != "no data/sales.csv here"))
        {
            problems.Add($"agent session B saw session A's state: '{script.IsolationPython?.Trim()}', '{script.IsolationFiles?.Trim()}'");
        }

        foreach (ToolCallRecord failed in calls.Where(c => c.IsError))
        {
            problems.Add($"tool call #{failed.Number} ({failed.Name}) failed");
        }

        if (!images.Any(i => i.Png is not null))
        {
            problems.Add("no PNG chart came back from run_code");
        }

        if (web is null)
        {
            problems.Add("the web app was not reached" + (webError is null ? "" : ": " + webError));
            return;
        }

        if (!web.Answered || !web.Html.Contains("<h1>Sales by region</h1>", StringComparison.Ordinal))
        {
            problems.Add($"the web app answered HTTP {web.Status} without the expected page");
        }

        IReadOnlyDictionary<string, decimal> expected = SalesData.RevenueByRegion();
        if (web.Totals is null || expected.Any(e => !web.Totals.TryGetValue(e.Key, out decimal got) || Math.Abs(got - e.Value) > 0.01m))
        {
            problems.Add("the web app's /api/totals does not match the revenue computed on the host");
        }

        if (web.ChartBytes is null || PngInfo.TryRead(web.ChartBytes) is null)
        {
            problems.Add("the web app did not serve the chart as a PNG");
        }
    }

    private void WriteSummary(List<ToolCallRecord> calls, string? boxName, SandboxPoolStatistics stats, List<SavedImage> images, WebAppCheck? web, string? webUrl,
        TimeSpan elapsed, string backend)
    {
        console.WriteLine();
        console.Write(new Rule("[bold]Summary[/]").LeftJustified());
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("#").AddColumn("tool").AddColumn("what").AddColumn(new TableColumn("time").RightAligned()).AddColumn("result");
        foreach (ToolCallRecord call in calls)
        {
            string what = call.Name switch
            {
                "run_code" => $"{call.GetArgument("language") ?? "python"}: {FirstLine(call.GetArgument("code"))}",
                "write_file" => call.GetArgument("path") ?? "",
                "expose_port" => "port " + call.GetArgument("port"),
                _ => call.GetArgument("path") ?? "",
            };
            string result = call.IsError ? "[red]error[/]" : call.Images.Count > 0 ? $"[green]ok[/], {call.Images.Count} image(s)" : "[green]ok[/]";
            table.AddRow(call.Number.ToString(CultureInfo.InvariantCulture), Markup.Escape(call.Name), Markup.Escape(what),
                call.Duration.TotalSeconds.ToString("0.00 s", CultureInfo.InvariantCulture), result);
        }

        console.Write(table);
        TimeSpan toolTime = calls.Aggregate(TimeSpan.Zero, (sum, c) => sum + c.Duration);
        console.MarkupLine($"tool calls:   {calls.Count} ({calls.Count(c => c.IsError)} failed), {toolTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s in tools");
        console.MarkupLine($"box:          {(boxName is null ? "none" : Markup.Escape(boxName))}; pool owns {stats.Total} now, deleted on exit");
        console.MarkupLine($"sandboxes:    {Markup.Escape(backend)}");
        foreach (SavedImage image in images)
        {
            string size = image.Png is { } png ? $"{png.Width}x{png.Height} PNG" : image.MediaType;
            console.MarkupLine($"chart:        {Markup.Escape(image.Path)} ({size}, {image.Bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes)");
        }

        if (images.Count == 0)
        {
            console.MarkupLine("chart:        (none)");
        }

        if (web is not null)
        {
            string totals = web.Totals is null ? "no /api/totals" : $"/api/totals lists {web.Totals.Count} regions";
            string chart = web.ChartBytes is null ? "no chart" : $"/chart.png {web.ChartBytes.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes";
            console.MarkupLine($"web app:      answered HTTP {web.Status} through its URL ({totals}, {chart})");
        }

        console.Markup("web app URL:  ");
        _ui.Raw(webUrl ?? "(none)");
        if (webUrl is not null && !settings.KeepAlive)
        {
            console.MarkupLine("[grey]              (the sandbox and its URL end when the sample exits; run with --keep-alive to keep them until you press Enter)[/]");
        }

        console.MarkupLine($"elapsed:      {elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
    }

    private static string FirstLine(string? code)
    {
        string line = (code ?? "").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
        return line.Length > 60 ? line[..57] + "..." : line;
    }

    private static string Sanitize(string name) =>
        new(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());

    private sealed record SavedImage(string Path, string MediaType, int Bytes, (int Width, int Height)? Png);
}
