using System.Net.Sockets;
using System.Text;
using Sandbox.Cli.Tests.Infrastructure;

namespace Sandbox.Cli.Tests.Commands;

[Collection(CliCollection.Name)]
public sealed class TunnelCommandTests(CliFixture fixture) : IAsyncLifetime
{
    private string _box = "";

    public async ValueTask InitializeAsync()
    {
        _box = await fixture.CreateBoxAsync("tunnel");
        // The guide's example service: python's http.server on port 8000, plus a line-echo server on 39517.
        var http = await fixture.RunAsync("exec", _box, "--", "sh", "-c",
            "cd /tmp && echo tunnel-page > index.html && nohup python3 -m http.server 8000 >/tmp/http.log 2>&1 &");
        Assert.True(http.ExitCode == 0, http.ToString());
        var echo = await fixture.RunAsync("exec", _box, "--", "sh", "-c",
            "nohup python3 -c \"import socketserver\nclass H(socketserver.StreamRequestHandler):\n  def handle(self):\n    for l in self.rfile: self.wfile.write(b'echo:'+l)\nsocketserver.ThreadingTCPServer.allow_reuse_address=True\nsocketserver.ThreadingTCPServer(('127.0.0.1',39517),H).serve_forever()\" >/tmp/echo.log 2>&1 &");
        Assert.True(echo.ExitCode == 0, echo.ToString());
        var started = await fixture.RunAsync("exec", _box, "--", "python3", "-c",
            "import socket, time\nfor port in (8000, 39517):\n  for i in range(300):\n    try:\n      socket.create_connection(('127.0.0.1', port), timeout=1).close(); break\n    except OSError: time.sleep(0.2)\n  else: raise SystemExit(f'port {port} never listened')");
        Assert.True(started.ExitCode == 0, started.ToString());
    }

    public async ValueTask DisposeAsync() => await fixture.RunAsync("delete", _box);

    [Fact]
    public async Task Tunnel_ServesSeveralConcurrentClients_UntilCtrlC()
    {
        int local = CliFixture.FreePort();
        using var process = fixture.Start("tunnel", _box, "--remote-port", "8000", "--local-port", local.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var info = await ReadJsonObjectAsync(process.StandardOutput);
        Assert.Contains($"\"local_port\": {local}", info, StringComparison.Ordinal);
        Assert.Contains("\"remote_port\": 8000", info, StringComparison.Ordinal);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var pages = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => http.GetStringAsync($"http://127.0.0.1:{local}/index.html")));
        Assert.All(pages, page => Assert.Equal("tunnel-page\n", page));

        CliFixture.Signal(process, "INT");
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        Assert.Equal(0, process.ExitCode);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync($"http://127.0.0.1:{local}/index.html"));
    }

    [Fact]
    public async Task TunnelByUrl_WithTheDefaultLocalPort_KeepsConnectionsApart()
    {
        string dataplane = (await fixture.RunAsync("get", _box)).Json.GetProperty("dataplane_url").GetString()!;
        using var process = fixture.Start("tunnel", "--url", dataplane, "--remote-port", "39517");
        var info = await ReadJsonObjectAsync(process.StandardOutput);
        Assert.Contains("\"local_port\": 39517", info, StringComparison.Ordinal);   // --local-port omitted: same as remote

        // Several raw TCP clients at once, interleaved: each gets only its own echoes back.
        var clients = await Task.WhenAll(Enumerable.Range(0, 5).Select(async i =>
        {
            var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", 39517);
            return (i, tcp, reader: new StreamReader(tcp.GetStream(), Encoding.UTF8));
        }));
        for (int round = 0; round < 3; round++)
        {
            foreach (var (i, tcp, _) in clients)
            {
                await tcp.GetStream().WriteAsync(Encoding.UTF8.GetBytes($"client{i}-round{round}\n"));
            }

            foreach (var (i, _, reader) in clients)
            {
                Assert.Equal($"echo:client{i}-round{round}", await CliFixture.ReadLineAsync(reader, TimeSpan.FromSeconds(20)));
            }
        }

        foreach (var (_, tcp, _) in clients)
        {
            tcp.Dispose();
        }

        CliFixture.Signal(process, "INT");
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task TunnelStdio_CarriesOneConnectionOverStdinAndStdout()
    {
        var result = await fixture.RunWithInputAsync("hello\nworld\n", "tunnel", _box, "--remote-port", "39517", "--stdio");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("echo:hello\necho:world\n", result.Stdout);
    }

    [Fact]
    public async Task Tunnel_LocalPortInUse_IsOneLine()
    {
        using var busy = new TcpListener(System.Net.IPAddress.Loopback, 0);
        busy.Start();
        int port = ((System.Net.IPEndPoint)busy.LocalEndpoint).Port;
        var result = await fixture.RunAsync("tunnel", _box, "--remote-port", "8000", "--local-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Reads the pretty-printed JSON object the tunnel prints once it listens.</summary>
    private static async Task<string> ReadJsonObjectAsync(StreamReader reader)
    {
        var text = new StringBuilder();
        while (true)
        {
            string line = await CliFixture.ReadLineAsync(reader, TimeSpan.FromSeconds(30));
            text.AppendLine(line);
            if (line == "}")
            {
                return text.ToString();
            }
        }
    }
}
