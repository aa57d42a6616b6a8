using System.Text.RegularExpressions;

namespace Samples.Tests;

[Collection(SamplesCollection.Name)]
public sealed partial class CodeInterpreterAgentTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("agent-sample-").FullName;

    [Fact]
    public async Task OfflineRun_DrivesRealToolsToAPngChartAndAWebAppThatAnswers()
    {
        (int exitCode, string text) = await RunAsync("--offline", "--output", _output);

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{text}");
        Assert.Contains("offline scripted conversation (no model configured)", text, StringComparison.Ordinal);

        // Kept state: the analysis call printed totals computed on the rows loaded by the call before it.
        Assert.Contains("loaded 144 rows", text, StringComparison.Ordinal);
        Assert.Matches(@"best region \w+; best month 2025-\d\d", text);

        // run_code output is printed live, under the call's header and before the line that reports the call finished.
        int started = text.IndexOf("> tool #2 run_code", StringComparison.Ordinal);
        int printed = text.IndexOf("\n  loaded 144 rows", StringComparison.Ordinal);
        int finished = text.IndexOf("< tool #2 run_code", StringComparison.Ordinal);
        Assert.True(started >= 0 && started < printed && printed < finished, "output not between the call's start and end\n" + text);
        Assert.Equal(1, Regex.Count(text, "loaded 144 rows; columns"));

        // The chart came back from run_code as an image, was saved, and is a real PNG.
        Match chart = ChartLine().Match(text);
        Assert.True(chart.Success, "no chart line in the summary\n" + text);
        string path = chart.Groups["path"].Value;
        Assert.StartsWith(_output, path, StringComparison.Ordinal);
        (int width, int height) = PngFile.Validate(await File.ReadAllBytesAsync(path));
        Assert.Equal((480, 300), (width, height));

        // The web app in the box answered the host through its exposed URL, with the data and the chart.
        Assert.Matches(@"web app:\s+answered HTTP 200 through its URL \(/api/totals lists 4 regions, /chart.png [\d,]+ bytes\)", text);
        Assert.Matches(@"web app URL:\s+http://\S+", text);
        Assert.Matches(@"tool calls:\s+7 \(0 failed\)", text);
        Assert.Contains("OK", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OfflineRun_OnAgentFramework_SecondSessionSeesNothingOfTheFirst()
    {
        (int exitCode, string text) = await RunAsync("--offline", "--framework", "agents", "--output", _output);

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{text}");
        Assert.Contains("framework: Agent Framework (ChatClientAgent, two sessions)", text, StringComparison.Ordinal);
        // Session A did the whole task in its box (state kept between calls, chart, web app) ...
        Assert.Contains("loaded 144 rows", text, StringComparison.Ordinal);
        Assert.Matches(@"web app:\s+answered HTTP 200 through its URL", text);
        // ... and session B, same agent and same tool set, got a box of its own.
        Assert.Matches(@"agent session A \(conversation agent-session-\w+\)", text);
        Assert.Matches(@"agent session B \(conversation agent-session-\w+\)", text);
        Assert.Contains("\n  rows defined: False", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\n  no data/sales.csv here", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Matches(@"tool calls:\s+9 \(0 failed\)", text);
    }

    [Fact]
    public async Task OfflineRun_OnSemanticKernel_PluginRunsTheScriptedToolCallsToAChartAndAWebApp()
    {
        (int exitCode, string text) = await RunAsync("--offline", "--framework", "sk", "--output", _output);

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{text}");
        Assert.Contains("framework: Semantic Kernel: Kernel with the sandbox plugin", text, StringComparison.Ordinal);
        Assert.Matches(@"chat history \(conversation sk-chat-\S+\)", text);
        // The kernel invoked the plugin's functions (state kept between calls), the host approved expose_port through the filter ...
        Assert.Contains("loaded 144 rows", text, StringComparison.Ordinal);
        Assert.Contains("approval sandbox_expose_port: publish port 8000 of the sandbox at a URL: approved automatically", text, StringComparison.Ordinal);
        // ... the chart came back as a real PNG, and the web app answered through its exposed URL.
        Match chart = ChartLine().Match(text);
        Assert.True(chart.Success, "no chart line in the summary\n" + text);
        PngFile.Validate(await File.ReadAllBytesAsync(chart.Groups["path"].Value));
        Assert.Matches(@"web app:\s+answered HTTP 200 through its URL \(/api/totals lists 4 regions, /chart.png [\d,]+ bytes\)", text);
        Assert.Matches(@"tool calls:\s+7 \(0 failed\)", text);
    }

    [Fact]
    public async Task OfflineRun_ExposePortApproval_IsAskedOfTheHostAndLabelled()
    {
        (int exitCode, string text) = await RunAsync("--offline", "--output", _output);

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{text}");
        int approval = text.IndexOf("approval expose_port: publish port 8000 of the sandbox at a URL: approved automatically (offline script", StringComparison.Ordinal);
        int exposed = text.IndexOf("> tool #7 expose_port", StringComparison.Ordinal);
        Assert.True(approval >= 0 && approval < exposed, "the approval line is missing or after the call\n" + text);
    }

    [Fact]
    public async Task UnreachableSandboxServer_ExitsNonZeroWithAClearMessage()
    {
        (int exitCode, string text) = await RunAsync("--offline", "--output", _output, "--endpoint", "http://127.0.0.1:9/v2/sandboxes", "--api-key", "test-key");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("FAILED", text, StringComparison.Ordinal);
        Assert.DoesNotContain("test-key", text, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_output, "*.png", SearchOption.AllDirectories));
    }

    public void Dispose() => Directory.Delete(_output, recursive: true);

    private async Task<(int ExitCode, string Text)> RunAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var writer = new StringWriter();
        int exitCode = await CodeInterpreterAgent.Program.RunAsync(args, writer, timeout.Token);
        string text = writer.ToString();
        log.WriteLine(text);
        return (exitCode, text);
    }

    [GeneratedRegex(@"chart:\s+(?<path>/\S+\.png) \(\d+x\d+ PNG")]
    private static partial Regex ChartLine();
}
