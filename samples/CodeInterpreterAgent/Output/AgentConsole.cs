using System.Globalization;
using System.Text.Json;
using CodeInterpreterAgent.Agent;
using Spectre.Console;

namespace CodeInterpreterAgent.Output;

/// <summary>Writes the conversation to the console as it happens: assistant text, each tool call and its output.</summary>
internal sealed class AgentConsole(IAnsiConsole console) : IToolLoopObserver
{
    private const int MaxOutputLines = 24;
    private const int MaxCodeLines = 12;

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
                WriteBlock(call.GetResultString("stdout") ?? "", "default", "  ");
                WriteBlock(call.GetResultString("stderr") ?? "", "red", "  ! ");
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
