using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Sandbox.Client;
using Sandbox.Tests.Common;

namespace Sandbox.Cli.Tests.Infrastructure;

/// <summary>One embedded local server for the whole CLI suite; the CLI reaches it as a user would (LANGSMITH_*).</summary>
public sealed class CliFixture : EmbeddedServerFixture
{
    private readonly List<string> _boxes = [];

    public string TempRoot { get; } = Directory.CreateTempSubdirectory("sandbox-cli-tests-").FullName;

    /// <summary>The environment a user would set: endpoint and key of the local server.</summary>
    public Dictionary<string, string?> Env => new()
    {
        ["LANGSMITH_ENDPOINT"] = Server.LangSmithEndpoint.ToString().TrimEnd('/'),
        ["LANGSMITH_API_KEY"] = Server.ApiKey,
    };

    public override async ValueTask DisposeAsync()
    {
        foreach (var box in _boxes)
        {
            try
            {
                await Client.DeleteSandboxAsync(box);
            }
            catch (SandboxException)
            {
            }
        }

        await base.DisposeAsync();
        try
        {
            Directory.Delete(TempRoot, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync(args, Env);

    public Task<CliResult> RunWithInputAsync(string stdin, params string[] args) => CliRunner.RunAsync(args, Env, stdin);

    public Process Start(params string[] args) => Process.Start(CliRunner.StartInfo(args, Env))!;

    /// <summary>Creates a ready box through the CLI and remembers it for clean-up.</summary>
    public async Task<string> CreateBoxAsync(string prefix, params string[] extra)
    {
        string name = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
        lock (_boxes)
        {
            _boxes.Add(name);
        }

        var result = await RunAsync(["create", name, "--wait", .. extra]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return name;
    }

    public void Forget(string box)
    {
        lock (_boxes)
        {
            _boxes.Remove(box);
        }
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Sends a signal to a process (the CLI), as a terminal's Ctrl+C would.</summary>
    public static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public static async Task<string> ReadLineAsync(StreamReader reader, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await reader.ReadLineAsync(cts.Token) ?? throw new EndOfStreamException("the CLI closed its output");
    }

    public static JsonElement ParseJsonPrefix(string text) => JsonDocument.Parse(text).RootElement.Clone();
}

[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliFixture>
{
    public const string Name = "cli";
}
