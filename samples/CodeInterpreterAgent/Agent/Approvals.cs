using System.Text.Json;
using Microsoft.Extensions.AI;
using Spectre.Console;

namespace CodeInterpreterAgent.Agent;

/// <summary>
/// The host's answer to a tool call that needs approval (<c>expose_port</c> publishes a port of the box at a URL). The
/// offline script is approved automatically, with a labelled line; <c>--yes</c> approves everything; otherwise a person
/// is asked on an interactive console, and without one the call is refused.
/// </summary>
internal sealed class Approvals(IAnsiConsole console, bool offline, bool yes)
{
    public ValueTask<bool> ApproveAsync(string toolName, IEnumerable<KeyValuePair<string, object?>>? arguments, CancellationToken cancellationToken)
    {
        string what = Describe(toolName, arguments);
        if (offline || yes)
        {
            string why = offline ? "offline script" : "--yes";
            console.MarkupLine($"[yellow]approval[/] {Markup.Escape(what)}: [green]approved automatically[/] [grey]({why}; a model run asks you unless --yes is given)[/]");
            return ValueTask.FromResult(true);
        }

        if (!console.Profile.Capabilities.Interactive)
        {
            console.MarkupLine($"[yellow]approval[/] {Markup.Escape(what)}: [red]refused[/] [grey](no interactive console to ask; run with --yes to allow)[/]");
            return ValueTask.FromResult(false);
        }

        return new ValueTask<bool>(new ConfirmationPrompt($"[yellow]approval[/] {Markup.Escape(what)}?") { DefaultValue = false }.ShowAsync(console, cancellationToken));
    }

    /// <summary>Answers the approval requests of an M.E.AI / Agent Framework response; empty when there were none.</summary>
    public async Task<List<AIContent>> AnswerAsync(IEnumerable<ChatMessage> messages, CancellationToken cancellationToken)
    {
        var answers = new List<AIContent>();
        foreach (ToolApprovalRequestContent request in messages.SelectMany(m => m.Contents).OfType<ToolApprovalRequestContent>())
        {
            var call = request.ToolCall as FunctionCallContent;
            bool approved = await ApproveAsync(call?.Name ?? "tool", call?.Arguments, cancellationToken);
            answers.Add(request.CreateResponse(approved, approved ? null : "The user did not approve this call."));
        }

        return answers;
    }

    private static string Describe(string toolName, IEnumerable<KeyValuePair<string, object?>>? arguments)
    {
        object? port = arguments?.FirstOrDefault(a => a.Key == "port").Value;
        string portText = port switch
        {
            null => "",
            JsonElement e => e.GetRawText(),
            _ => Convert.ToString(port, System.Globalization.CultureInfo.InvariantCulture) ?? "",
        };
        return toolName.EndsWith("expose_port", StringComparison.Ordinal) && portText.Length > 0
            ? $"{toolName}: publish port {portText} of the sandbox at a URL"
            : toolName;
    }
}
