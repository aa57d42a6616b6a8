using System.Text.Json;
using CodeInterpreterAgent.Agent;
using CodeInterpreterAgent.Output;
using Sandbox.AgentTools;

namespace Samples.Tests;

public sealed class AgentConsoleTests
{
    [Fact]
    public void RunCodeOutput_IsPrintedLineByLineAsItArrives_AndNotRepeatedWithTheResult()
    {
        using var writer = new StringWriter();
        var ui = new AgentConsole(CodeInterpreterAgent.Program.CreateConsole(writer));
        var call = new ToolCallRecord(3, "call-3", "run_code", new Dictionary<string, object?> { ["language"] = "python", ["code"] = "work()" });
        ui.ToolStarting(call);
        int afterHeader = writer.ToString().Length;

        ui.ToolOutput(Chunk("call-3", ToolOutputStream.Stdout, "step 1"));
        Assert.EndsWith("  step 1", writer.ToString(), StringComparison.Ordinal); // shown before the line ends
        ui.ToolOutput(Chunk("call-3", ToolOutputStream.Stdout, "\nstep 2\nst"));
        ui.ToolOutput(Chunk("call-3", ToolOutputStream.Stderr, "warning: [slow]\n"));
        ui.ToolOutput(Chunk("other-call", ToolOutputStream.Stdout, "not this call\n"));
        ui.ToolOutput(Chunk("call-3", ToolOutputStream.Stdout, "ep 3"));
        string live = writer.ToString()[afterHeader..];

        call.Result = JsonDocument.Parse("""{"status":"ok","stdout":"step 1\nstep 2\nstep 3","stderr":"warning: [slow]\n"}""").RootElement.Clone();
        ui.ToolFinished(call);
        string text = writer.ToString();

        Assert.Equal("  step 1\n  step 2\n  st\n  ! warning: [slow]\n  ep 3", live.ReplaceLineEndings("\n"));
        string[] lines = text[afterHeader..].ReplaceLineEndings("\n").Split('\n');
        Assert.StartsWith("< tool #3 run_code ok", lines[5], StringComparison.Ordinal);
        Assert.DoesNotContain("not this call", text, StringComparison.Ordinal);
        Assert.Equal(1, CountOf(text, "step 2"));
    }

    [Fact]
    public void WithoutLiveOutput_TheResultIsPrintedAfterTheCall()
    {
        using var writer = new StringWriter();
        var ui = new AgentConsole(CodeInterpreterAgent.Program.CreateConsole(writer));
        var call = new ToolCallRecord(1, "call-1", "run_code", new Dictionary<string, object?> { ["code"] = "print(42)" });
        ui.ToolStarting(call);
        call.Result = JsonDocument.Parse("""{"status":"ok","stdout":"42\n","stderr":""}""").RootElement.Clone();
        ui.ToolFinished(call);

        string text = writer.ToString().ReplaceLineEndings("\n");
        Assert.Contains("< tool #1 run_code ok in 0.00 s\n  42\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void LongLiveOutput_IsCappedWithACountOfTheHiddenLines()
    {
        using var writer = new StringWriter();
        var ui = new AgentConsole(CodeInterpreterAgent.Program.CreateConsole(writer));
        var call = new ToolCallRecord(1, "call-1", "run_code", new Dictionary<string, object?> { ["code"] = "loop()" });
        ui.ToolStarting(call);
        for (int i = 0; i < 100; i++)
        {
            ui.ToolOutput(Chunk("call-1", ToolOutputStream.Stdout, $"row {i}\n"));
        }

        call.Result = JsonDocument.Parse("""{"status":"ok","stdout":"...","stderr":""}""").RootElement.Clone();
        ui.ToolFinished(call);

        string text = writer.ToString();
        Assert.Contains("  row 39\n", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("row 40", text, StringComparison.Ordinal);
        Assert.Contains("... 60 more lines not shown", text, StringComparison.Ordinal);
    }

    private static ToolOutputChunk Chunk(string callId, ToolOutputStream stream, string text) => new("conv", callId, "python", stream, text);

    private static int CountOf(string text, string value) => (text.Length - text.Replace(value, "", StringComparison.Ordinal).Length) / value.Length;
}
