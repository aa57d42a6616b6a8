using System.Globalization;
using EvalHarness.Running;
using EvalHarness.Tasks;
using Spectre.Console;

namespace EvalHarness.Reporting;

/// <summary>The verdict table, the containment checks and the one-line summary.</summary>
internal static class ResultsView
{
    public static void Write(IAnsiConsole console, HarnessReport report)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]Verdicts[/]")
            .AddColumn(new TableColumn("task").NoWrap()).AddColumn(new TableColumn("kind").NoWrap()).AddColumn(new TableColumn("expected").NoWrap())
            .AddColumn(new TableColumn("verdict").NoWrap()).AddColumn(new TableColumn("as expected").NoWrap())
            .AddColumn(new TableColumn("tests").RightAligned().NoWrap()).AddColumn(new TableColumn("total").RightAligned().NoWrap()).AddColumn("detail");
        foreach (TaskResult r in report.Results)
        {
            table.AddRow(
                Markup.Escape(r.Task.Id),
                Markup.Escape(r.Task.Kind ?? ""),
                Name(r.Task.ExpectedVerdict),
                Styled(r.Verdict),
                r.Verdict == Verdict.Skipped ? "[grey]skipped[/]" : r.AsExpected ? "[green]yes[/]" : "[bold red]NO[/]",
                Seconds(r.TestTime),
                Seconds(r.TotalTime),
                Markup.Escape(r.Detail));
        }

        console.Write(table);
        console.MarkupLine($"sandboxes:   {Markup.Escape(report.Backend)}");
        if (report.Health is { } health)
        {
            console.MarkupLine($"server:      {(health.Healthy ? "[green]healthy[/]" : "[red]NOT healthy[/]")} after the run ({Markup.Escape(health.Detail)})");
        }

        if (report.HostEscapes is { } escapes)
        {
            console.MarkupLine(escapes.Count == 0
                ? $"host:        [green]untouched[/] (none of the {HostProbe.EscapeTargets.Length} paths the hostile task wrote to exist on the host; no box saw the host's secret file)"
                : $"host:        [red]ESCAPE[/] files appeared on the host: {Markup.Escape(string.Join(", ", escapes))}");
        }

        if (report.BoxesLeft is { } left)
        {
            console.MarkupLine(left.Count == 0
                ? "boxes:       [green]all deleted[/] (one per task, each removed with whatever it left running)"
                : $"boxes:       [red]{left.Count} left behind[/]: {Markup.Escape(string.Join(", ", left))}");
        }

        console.MarkupLine($"elapsed:     {report.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
        console.MarkupLine(Summary(report));
    }

    /// <summary>e.g. "12 tasks: 4 passed, 5 failed, 3 timed out — all verdicts as expected".</summary>
    public static string Summary(HarnessReport report)
    {
        IReadOnlyList<TaskResult> results = report.Results;
        var counts = new List<string>
        {
            $"{results.Count(r => r.Verdict == Verdict.Passed)} passed",
            $"{results.Count(r => r.Verdict == Verdict.Failed)} failed",
            $"{results.Count(r => r.Verdict == Verdict.TimedOut)} timed out",
        };
        int skipped = results.Count(r => r.Verdict == Verdict.Skipped);
        int errors = results.Count(r => r.Verdict == Verdict.Error);
        if (skipped > 0)
        {
            counts.Add($"{skipped} skipped");
        }

        if (errors > 0)
        {
            counts.Add($"{errors} harness errors");
        }

        List<TaskResult> wrong = results.Where(r => !r.AsExpected).ToList();
        string verdicts = wrong.Count == 0
            ? "[green]all verdicts as expected[/]"
            : $"[red]{wrong.Count} verdict(s) differ: {Markup.Escape(string.Join(", ", wrong.Select(r => $"{r.Task.Id} expected {Name(r.Task.ExpectedVerdict)}, got {Name(r.Verdict)}")))}[/]";
        return $"[bold]{results.Count} tasks: {string.Join(", ", counts)} — {verdicts}[/]";
    }

    public static string Name(Verdict verdict) => verdict switch
    {
        Verdict.Passed => "pass",
        Verdict.Failed => "fail",
        Verdict.TimedOut => "timeout",
        Verdict.Skipped => "skipped",
        _ => "error",
    };

    private static string Styled(Verdict verdict) => verdict switch
    {
        Verdict.Passed => "[green]pass[/]",
        Verdict.Failed => "[red]fail[/]",
        Verdict.TimedOut => "[yellow]timeout[/]",
        Verdict.Skipped => "[grey]skipped[/]",
        _ => "[bold red]error[/]",
    };

    private static string Seconds(TimeSpan t) => t == TimeSpan.Zero ? "-" : t.TotalSeconds.ToString("0.00 s", CultureInfo.InvariantCulture);
}
