using Sandbox.Cli.Tests.Infrastructure;

namespace Sandbox.Cli.Tests.Commands;

[Collection(CliCollection.Name)]
public sealed class ServerCommandTests(CliFixture fixture)
{
    [Fact]
    public async Task Server_StartsTheLocalServer_TheCliUsesIt_AndCtrlCStopsIt()
    {
        int port = CliFixture.FreePort();
        string data = Path.Combine(fixture.TempRoot, "server-data");
        var env = new Dictionary<string, string?> { ["SANDBOX_SERVER_API_KEY"] = null };
        using var server = System.Diagnostics.Process.Start(CliRunner.StartInfo(["server", "--urls", $"http://127.0.0.1:{port}", "--data-dir", data], env))!;
        server.StandardInput.Close();
        string? key = null;
        while (key is null)
        {
            string line = await CliFixture.ReadLineAsync(server.StandardOutput, TimeSpan.FromSeconds(60));
            if (line.Contains("export LANGSMITH_API_KEY=", StringComparison.Ordinal))
            {
                key = line.Split('=', 2)[1].Split(' ')[0];
            }
            else if (line.StartsWith("  data directory:", StringComparison.Ordinal))
            {
                Assert.Equal(data, line.Split(':', 2)[1].Trim());
            }
        }

        var list = await CliRunner.RunAsync(["list"], new Dictionary<string, string?> { ["LANGSMITH_ENDPOINT"] = $"http://127.0.0.1:{port}", ["LANGSMITH_API_KEY"] = key });
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal("[]", list.Stdout.Trim());
        Assert.True(Directory.Exists(data));

        CliFixture.Signal(server, "INT");
        await server.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        Assert.Equal(0, server.ExitCode);
        Assert.Contains("Sandbox server stopped.", await server.StandardOutput.ReadToEndAsync(), StringComparison.Ordinal);
    }
}
