using System.Globalization;
using System.Text.Json;
using CodeInterpreterAgent.Agent;
using Sandbox.AgentTools;
using Spectre.Console;

namespace CodeInterpreterAgent.Output;

/// <summary>
/// Writes the conversation to the console as it happens: assistant text, each tool call and its output. A
/// <c>run_code</c> call's output is printed live, under the call's header, as the sandbox produces it
/// (<see cref="ToolOutput"/> is wired to <see cref="SandboxToolOptions.OnOutput"/>).
/// </summary>
internal sealed class AgentConsole(IAnsiConsole console) : IToolLoopObserver
{
    private const int MaxOutputLines = 24;
    private const int MaxCodeLines = 12;
    private const int MaxLiveLines = 40;

    // Output chunks arrive on the tools' read thread while the loop awaits the call; one lock orders all writes.
    private readonly Lock _gate = new();
    private LiveOutput? _live;

    public IAnsiConsole Console { get; } = console;

    public void AssistantText(string text)
    {
        Console.Markup("[bold deepskyblue1]assistant[/] ");
        Raw(text.Trim());
    }

    /// <summary>Writes text without wrapping it (URLs stay whole, so they can be clicked and copied).</summary>
    public void Raw(string text) => Console.Profile.Out.Writer.WriteLine(text);

    public void User(string text) =>
        Console.MarkupLine($"[bold green]user[/] {Markup.Escape(text.Trim())}");

    public void Info(string text) => Console.MarkupLine($"[grey]{Markup.Escape(text)}[/]");

    public void Error(string text) => Console.MarkupLine($"[bold red]error[/] {Markup.Escape(text)}");

    public void ToolStarting(ToolCallRecord call)
    {
        lock (_gate)
        {
            WriteToolStarting(call);
            _live = call.Name == "run_code" ? new LiveOutput(call.CallId) : null;
        }
    }

    /// <summary>Prints a piece of the running call's stdout/stderr as it arrives (partial lines included).</summary>
    public void ToolOutput(ToolOutputChunk chunk)
    {
        lock (_gate)
        {
            if (_live is not { } live || chunk.ToolCallId != live.CallId)
            {
                return;
            }

            live.Streamed = true;
            string[] pieces = chunk.Text.Split('\n');
            for (int i = 0; i < pieces.Length; i++)
            {
                bool endsLine = i < pieces.Length - 1;
                string piece = pieces[i].TrimEnd('\r');
                if (!live.AtLineStart && live.Stream != chunk.Stream)
                {
                    // The other stream was mid-line: finish that line first.
                    Console.WriteLine();
                    live.AtLineStart = true;
                }

                if (live.AtLineStart)
                {
                    if (piece.Length == 0 && !endsLine)
                    {
                        continue;
                    }

                    if (live.Lines >= MaxLiveLines)
                    {
                        live.Hidden += endsLine ? 1 : 0;
                        continue;
                    }

                    live.Lines++;
                    Console.Markup(chunk.Stream == ToolOutputStream.Stderr ? "[red]  ! [/]" : "  ");
                    live.AtLineStart = false;
                    live.Stream = chunk.Stream;
                }

                if (piece.Length > 0)
                {
                    Console.Markup(chunk.Stream == ToolOutputStream.Stderr ? $"[red]{Markup.Escape(piece)}[/]" : Markup.Escape(piece));
                }

                if (endsLine)
                {
                    Console.WriteLine();
                    live.AtLineStart = true;
                }
            }
        }
    }

    private void WriteToolStarting(ToolCallRecord call)
    {
        string detail = call.Name switch
        {
            "run_code" => call.GetArgument("language") ?? "python",
            "write_file" or "read_file" or "list_files" => call.GetArgument("path") ?? "",
            "expose_port" => "port " + call.GetArgument("port"),
            _ => "",
        };
        Console.MarkupLine($"[yellow]> tool #{call.Number} {Markup.Escape(call.Name)}[/] [grey]{Markup.Escape(detail)} ... running[/]");
        if (call.Name == "run_code" && call.GetArgument("code") is { } code)
        {
            WriteBlock(code, "grey50", "  | ", MaxCodeLines);
        }
        else if (call.Name == "write_file" && call.GetArgument("content") is { } content)
        {
            int lines = content.Count(c => c == '\n');
            Console.MarkupLine($"[grey50]  | {content.Length.ToString("N0", CultureInfo.InvariantCulture)} characters, {lines} lines[/]");
        }
    }

    public void ToolFinished(ToolCallRecord call)
    {
        lock (_gate)
        {
            LiveOutput? live = _live;
            _live = null;
            if (live is { AtLineStart: false })
            {
                Console.WriteLine();
            }

            if (live is { Hidden: > 0 })
            {
                Console.MarkupLine($"[grey]  ... {live.Hidden.ToString(CultureInfo.InvariantCulture)} more lines not shown[/]");
            }

            WriteToolFinished(call, live?.Streamed == true);
        }
    }

    private void WriteToolFinished(ToolCallRecord call, bool outputShownLive)
    {
        string seconds = call.Duration.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
        string state = call.IsError ? "[red]failed[/]" : "[green]ok[/]";
        Console.MarkupLine($"[yellow]< tool #{call.Number} {Markup.Escape(call.Name)}[/] {state} [grey]in {seconds} s[/]");
        if (call.Json is not { ValueKind: JsonValueKind.Object } json)
        {
            WriteBlock(call.Result?.ToString() ?? "(no result)", "red", "  ! ");
            return;
        }

        if (json.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.String)
        {
            string hint = json.TryGetProperty("hint", out JsonElement h) && h.ValueKind == JsonValueKind.String ? " (" + h.GetString() + ")" : "";
            WriteBlock(error.GetString() + hint, "red", "  ! ");
            return;
        }

        switch (call.Name)
        {
            case "run_code":
                if (!outputShownLive)
                {
                    WriteBlock(call.GetResultString("stdout") ?? "", "default", "  ");
                    WriteBlock(call.GetResultString("stderr") ?? "", "red", "  ! ");
                }

                if (call.GetResultString("note") is { Length: > 0 } note)
                {
                    Console.MarkupLine($"[grey]  note: {Markup.Escape(note)}[/]");
                }

                break;
            case "write_file":
                Console.MarkupLine($"[grey]  wrote {Markup.Escape(call.GetResultString("bytes_written") ?? "?")} bytes to {Markup.Escape(call.GetResultString("path") ?? "?")}[/]");
                break;
            case "expose_port":
                Console.Markup($"[grey]  answered HTTP {Markup.Escape(call.GetResultString("http_status") ?? "?")}; browser URL: [/]");
                Raw(call.GetResultString("browser_url") ?? "-");
                break;
            default:
                WriteBlock(json.GetRawText(), "grey", "  ");
                break;
        }

        foreach (var image in call.Images)
        {
            Console.MarkupLine($"[magenta]  image {Markup.Escape(image.Name ?? "image")} ({Markup.Escape(image.MediaType)}, {image.Data.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes)[/]");
        }
    }

    private void WriteBlock(string text, string style, string prefix, int maxLines = MaxOutputLines)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        string[] lines = text.TrimEnd().Split('\n');
        IEnumerable<string> shown = lines.Length <= maxLines
            ? lines
            : lines.Take(maxLines - 3).Append($"... {lines.Length - maxLines + 2} more lines ...").Concat(lines.TakeLast(2));
        foreach (string line in shown)
        {
            Console.MarkupLine($"[{style}]{Markup.Escape(prefix + line.TrimEnd('\r'))}[/]");
        }
    }
}
