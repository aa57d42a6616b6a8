using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using CodeInterpreterAgent.Agent;
using CodeInterpreterAgent.Mcp;
using Spectre.Console;

namespace CodeInterpreterAgent;

/// <summary>
/// A console agent with a sandboxed code interpreter. With a model configured (OPENAI_API_KEY / OPENAI_BASE_URL /
/// OPENAI_MODEL) it talks to the model; without one it runs a scripted, clearly labelled offline conversation that
/// drives the same tools. Sandboxes come from the embedded local server unless --endpoint or --hosted says otherwise.
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

    /// <summary>Runs the sample, writing to <paramref name="output"/>; returns the process exit code (0 = success).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        Func<string, string?> env = Environment.GetEnvironmentVariable;
        var endpoint = new Option<string?>("--endpoint") { Description = "Sandbox server to use instead of the embedded one (default: SANDBOX_ENDPOINT).", Recursive = true };
        var apiKey = new Option<string?>("--api-key") { Description = "API key of that server (default: SANDBOX_API_KEY, else LANGSMITH_API_KEY).", Recursive = true };
        var hosted = new Option<bool>("--hosted") { Description = "Use hosted LangSmith sandboxes (LANGSMITH_ENDPOINT, LANGSMITH_API_KEY).", Recursive = true };
        var offline = new Option<bool>("--offline") { Description = "Run the offline scripted conversation even when a model is configured." };
        var outputDir = new Option<string>("--output") { Description = "Folder for the images the tools return.", DefaultValueFactory = _ => Path.Combine("artifacts", "code-interpreter-agent") };
        var prompt = new Option<string?>("--prompt") { Description = "First user message (model mode)." };
        var interactive = new Option<bool>("--interactive") { Description = "Keep the conversation going with more user messages (model mode)." };
        var maxIterations = new Option<int>("--max-iterations") { Description = "Upper bound on model calls per user turn.", DefaultValueFactory = _ => 16 };
        var keepAlive = new Option<bool>("--keep-alive") { Description = "Keep the sandbox and the web app's URL until Enter is pressed." };
        var framework = new Option<AgentFramework>("--framework") { Description = "meai (Microsoft.Extensions.AI pipeline), agents (Agent Framework ChatClientAgent, two sessions) or sk (Semantic Kernel plugin).", DefaultValueFactory = _ => AgentFramework.Meai };
        var yes = new Option<bool>("--yes") { Description = "Approve expose_port without asking (model mode; the offline script is approved automatically)." };
        var root = new RootCommand("Sandbox.AgentTools code interpreter agent") { endpoint, apiKey, hosted, offline, outputDir, prompt, interactive, maxIterations, keepAlive, framework, yes };
        root.Subcommands.Add(McpCommand.Create(endpoint, apiKey, hosted, env, output));

        IAnsiConsole console = CreateConsole(output);
        root.SetAction(async (parse, ct) =>
        {
            if (!TryGetSandboxEndpoint(parse.GetValue(endpoint), env, out Uri? sandboxEndpoint, out string? endpointError))
            {
                console.MarkupLine($"[bold red]error[/] {Markup.Escape(endpointError)}");
                return 2;
            }
            var settings = new AgentSettings
            {
                Endpoint = sandboxEndpoint,
                ApiKey = parse.GetValue(apiKey) ?? NullIfEmpty(env("SANDBOX_API_KEY")),
                Hosted = parse.GetValue(hosted),
                Offline = parse.GetValue(offline),
                OutputDirectory = parse.GetValue(outputDir)!,
                Prompt = parse.GetValue(prompt),
                Interactive = parse.GetValue(interactive),
                MaxIterations = Math.Max(1, parse.GetValue(maxIterations)),
                KeepAlive = parse.GetValue(keepAlive),
                Framework = parse.GetValue(framework),
                Yes = parse.GetValue(yes),
            };
            try
            {
                return await new AgentSession(settings, console, env, TimeProvider.System).RunAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                console.MarkupLine("[yellow]cancelled[/]");
                return 130;
            }
            catch (Exception ex)
            {
                console.MarkupLine($"[bold red]error[/] {Markup.Escape(ex.GetType().Name)}: {Markup.Escape(ex.Message)}");
                return 1;
            }
        });

        ParseResult parsed = root.Parse(args);
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = output }, cancellationToken);
    }

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
            console.Profile.Width = Math.Max(console.Profile.Width, 140);
        }

        return console;
    }

    /// <summary>The sandbox endpoint from <c>--endpoint</c> or <c>SANDBOX_ENDPOINT</c> (null: none given), or why it is unusable.</summary>
    internal static bool TryGetSandboxEndpoint(string? option, Func<string, string?> env, out Uri? endpoint, [NotNullWhen(false)] out string? error)
    {
        endpoint = null;
        error = null;
        string? text = NullIfEmpty(option) ?? NullIfEmpty(env("SANDBOX_ENDPOINT"));
        if (text is null)
        {
            return true;
        }

        if (Uri.TryCreate(text, UriKind.Absolute, out endpoint) && endpoint.Scheme is "http" or "https")
        {
            return true;
        }

        endpoint = null;
        error = $"the sandbox endpoint must be an absolute http(s) URL, not '{text}'";
        return false;
    }

    internal static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
