using System.CommandLine;
using System.Globalization;
using EvalHarness.Reporting;
using EvalHarness.Running;
using EvalHarness.Tasks;
using Spectre.Console;

namespace EvalHarness;

/// <summary>
/// Runs model-written solutions (a JSONL file of task id, code, tests and the expected verdict), each in its own
/// sandbox box leased from the agent-tools pool, a bounded number at once, and prints a pass/fail/timeout table.
/// Exits non-zero when any verdict differs from the expected one or a containment check fails.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        return await RunAsync(args, Console.Out, cancel.Token);
    }

    /// <summary>Runs the harness, writing to <paramref name="output"/>; returns the process exit code (0 = every verdict as expected).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        var tasksPath = new Option<string>("--tasks") { Description = "The task file (JSON Lines).", DefaultValueFactory = _ => Path.Combine(AppContext.BaseDirectory, "tasks.jsonl") };
        var parallel = new Option<int>("--parallel") { Description = "Tasks run at once, each in its own box.", DefaultValueFactory = _ => 4 };
        var endpoint = new Option<string?>("--endpoint") { Description = "Sandbox server to use instead of the embedded one (default: SANDBOX_ENDPOINT)." };
        var apiKey = new Option<string?>("--api-key") { Description = "API key of that server (default: SANDBOX_API_KEY, else LANGSMITH_API_KEY)." };
        var hosted = new Option<bool>("--hosted") { Description = "Use hosted LangSmith sandboxes (LANGSMITH_ENDPOINT, LANGSMITH_API_KEY)." };
        var root = new RootCommand("Runs model-written solutions in sandboxes and checks their verdicts") { tasksPath, parallel, endpoint, apiKey, hosted };
        IAnsiConsole console = CreateConsole(output);
        root.SetAction(async (parse, ct) =>
        {
            string? endpointText = NullIfEmpty(parse.GetValue(endpoint)) ?? NullIfEmpty(Environment.GetEnvironmentVariable("SANDBOX_ENDPOINT"));
            Uri? sandboxEndpoint = null;
            if (endpointText is not null && !(Uri.TryCreate(endpointText, UriKind.Absolute, out sandboxEndpoint) && sandboxEndpoint.Scheme is "http" or "https"))
            {
                console.MarkupLine($"[bold red]error[/] the sandbox endpoint must be an absolute http(s) URL, not '{Markup.Escape(endpointText)}'");
                return 2;
            }

            var settings = new HarnessSettings
            {
                TasksPath = parse.GetValue(tasksPath)!,
                Parallel = parse.GetValue(parallel),
                Endpoint = sandboxEndpoint,
                ApiKey = NullIfEmpty(parse.GetValue(apiKey)) ?? NullIfEmpty(Environment.GetEnvironmentVariable("SANDBOX_API_KEY")),
                Hosted = parse.GetValue(hosted),
            };
            try
            {
                return await RunHarnessAsync(settings, console, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                console.MarkupLine("[yellow]cancelled[/]");
                return 130;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or InvalidOperationException)
            {
                console.MarkupLine($"[bold red]error[/] {Markup.Escape(ex.Message)}");
                return 2;
            }
        });
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output }, cancellationToken);
    }

    private static async Task<int> RunHarnessAsync(HarnessSettings settings, IAnsiConsole console, CancellationToken cancellationToken)
    {
        IReadOnlyList<EvalTask> tasks = await TaskFile.LoadAsync(settings.TasksPath, cancellationToken);
        console.Write(new Rule("[bold]Sandbox.AgentTools[/] evaluation harness").LeftJustified());
        console.MarkupLine($"[grey]{tasks.Count} tasks from {Markup.Escape(settings.TasksPath)}, {settings.Parallel} at a time, each in its own box " +
            $"({settings.BoxMemoryBytes >> 20} MiB, 1 vCPU)[/]");

        HarnessReport report;
        if (console.Profile.Capabilities.Interactive)
        {
            report = await console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async ctx =>
                {
                    ProgressTask overall = ctx.AddTask("[bold]all tasks[/]", maxValue: tasks.Count);
                    var rows = new Dictionary<string, ProgressTask>(StringComparer.Ordinal);
                    var gate = new Lock();
                    var harness = new Harness(settings, TimeProvider.System)
                    {
                        TaskStarted = t =>
                        {
                            lock (gate)
                            {
                                rows[t.Id] = ctx.AddTask(Markup.Escape(t.Id), maxValue: 1).IsIndeterminate();
                            }
                        },
                        TaskFinished = r =>
                        {
                            lock (gate)
                            {
                                if (!rows.TryGetValue(r.Task.Id, out ProgressTask? row))
                                {
                                    row = rows[r.Task.Id] = ctx.AddTask(Markup.Escape(r.Task.Id), maxValue: 1);
                                }

                                row.Description = $"{Markup.Escape(r.Task.Id)} {ResultsView.Name(r.Verdict)}";
                                row.IsIndeterminate(false).Value(1);
                                row.StopTask();
                                overall.Increment(1);
                            }
                        },
                        Status = s => overall.Description = $"[bold]all tasks[/] [grey]{Markup.Escape(s)}[/]",
                    };
                    return await harness.RunAsync(tasks, cancellationToken);
                });
        }
        else
        {
            int done = 0;
            var harness = new Harness(settings, TimeProvider.System)
            {
                TaskFinished = r =>
                {
                    int n = Interlocked.Increment(ref done);
                    console.MarkupLine($"[grey][[{n,2}/{tasks.Count}]][/] {Markup.Escape(r.Task.Id),-20} {ResultsView.Name(r.Verdict),-8} " +
                        $"[grey]{r.TotalTime.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)} s[/]");
                },
                Status = s => console.MarkupLine($"[grey]{Markup.Escape(s)}[/]"),
            };
            report = await harness.RunAsync(tasks, cancellationToken);
        }

        console.WriteLine();
        ResultsView.Write(console, report);
        return report.Success ? 0 : 1;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    internal static IAnsiConsole CreateConsole(TextWriter output)
    {
        bool isConsole = ReferenceEquals(output, Console.Out);
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = isConsole ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isConsole ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = isConsole ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!isConsole || Console.IsOutputRedirected)
        {
            // Logs and tests get wide lines instead of the 80-column default of a redirected console.
            console.Profile.Width = Math.Max(console.Profile.Width, 180);
        }

        return console;
    }
}
