using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.Benchmarks.Server;

/// <summary>
/// The official langsmith JS SDK (the copy <c>tests/conformance</c> installs) in a node process driven line by line
/// (<c>js/sdk-worker.mjs</c>), so its measurements interleave with the C# client's against the same server.
/// </summary>
internal sealed class JsSdkWorker : IAsyncDisposable
{
    private readonly Process _process;

    private JsSdkWorker(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>Starts the worker, or returns null (with the reason on stderr) when node or the SDK is not installed.</summary>
    public static async Task<JsSdkWorker?> TryStartAsync(StandaloneServer server)
    {
        string root = StandaloneServer.RepositoryRoot();
        string conformance = Path.Combine(root, "tests", "conformance");
        string script = Path.Combine(root, "benchmarks", "Sandbox.Benchmarks", "js", "sdk-worker.mjs");
        if (!Directory.Exists(Path.Combine(conformance, "node_modules", "langsmith")))
        {
            Console.Error.WriteLine("note: the JS SDK is not installed (cd tests/conformance && npm ci); JS columns are skipped");
            return null;
        }

        var psi = new ProcessStartInfo("node")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        foreach (string arg in new[] { "--max-old-space-size=4096", script, conformance, server.Endpoint, server.ApiKey })
        {
            psi.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"note: node could not be started ({e.Message}); JS columns are skipped");
            return null;
        }

        string? ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (ready is null || !ready.Contains("ready", StringComparison.Ordinal))
        {
            Console.Error.WriteLine("note: the JS SDK worker did not start; JS columns are skipped");
            process.Kill();
            process.Dispose();
            return null;
        }

        return new JsSdkWorker(process);
    }

    /// <summary>Sends one request and returns the answer; throws with the worker's error.</summary>
    public async Task<JsonObject> CallAsync(object request)
    {
        await _process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(request));
        await _process.StandardInput.FlushAsync();
        string line = await _process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the JS SDK worker exited");
        var answer = JsonNode.Parse(line)!.AsObject();
        if (answer["error"] is { } error)
        {
            throw new InvalidOperationException("JS SDK: " + error.GetValue<string>());
        }

        return answer;
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}
