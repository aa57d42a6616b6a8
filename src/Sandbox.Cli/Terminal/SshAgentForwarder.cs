using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using Sandbox.Cli.Commands;
using Sandbox.Cli.Infrastructure;
using Sandbox.Client;

namespace Sandbox.Cli.Terminal;

/// <summary>
/// Makes the local SSH agent usable inside a sandbox through the tunnel, which only dials into the box: a small relay in
/// the box listens on a Unix socket (the box's <c>SSH_AUTH_SOCK</c>, mode 0600) and on a loopback TCP port; this side
/// keeps one tunnel connection to that port parked, and when an agent client in the box connects, the relay pairs it
/// with the parked connection, whose first bytes make this side dial the local agent and pump both ways. The agent's
/// keys never leave the local machine; only agent protocol messages cross, while the console runs.
/// </summary>
internal sealed class SshAgentForwarder : IAsyncDisposable
{
    // The relay: stdlib only. argv: socket path, TCP port. Prints "ready" once both listeners are up.
    private const string Relay = """
        import os, socket, sys, threading, queue
        path, port = sys.argv[1], int(sys.argv[2])
        parked = queue.Queue()
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind(("127.0.0.1", port)); tcp.listen(16)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        old = os.umask(0o177)
        uds = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); uds.bind(path); uds.listen(16)
        os.umask(old)
        def park():
            while True:
                c, _ = tcp.accept(); parked.put(c)
        def pipe(a, b):
            try:
                while True:
                    d = a.recv(65536)
                    if not d:
                        break
                    b.sendall(d)
            except OSError:
                pass
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        def serve(u):
            t = parked.get()
            up = threading.Thread(target=pipe, args=(u, t), daemon=True); up.start()
            pipe(t, u); up.join(); u.close(); t.close()
        threading.Thread(target=park, daemon=True).start()
        print("ready", flush=True)
        while True:
            u, _ = uds.accept(); threading.Thread(target=serve, args=(u,), daemon=True).start()
        """;

    private readonly CommandHandle _relay;
    private readonly SandboxTunnel _tunnel;
    private readonly string _localSocket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private SshAgentForwarder(CommandHandle relay, SandboxTunnel tunnel, string localSocket, string remoteSocket)
    {
        _relay = relay;
        _tunnel = tunnel;
        _localSocket = localSocket;
        RemoteSocket = remoteSocket;
        _loop = Task.Run(ParkLoopAsync);
    }

    /// <summary>The agent socket inside the box (set it as <c>SSH_AUTH_SOCK</c> there).</summary>
    public string RemoteSocket { get; }

    public static async Task<SshAgentForwarder> StartAsync(SandboxInstance box, CancellationToken cancellationToken)
    {
        string? local = Environment.GetEnvironmentVariable("SSH_AUTH_SOCK");
        if (string.IsNullOrEmpty(local) || !File.Exists(local))
        {
            throw new CliException("--forward-ssh-agent needs a running local SSH agent: SSH_AUTH_SOCK is not set or does not exist");
        }

        var probe = await box.RunAsync("command -v python3", new RunOptions { Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
        if (!probe.Success)
        {
            throw new CliException("--forward-ssh-agent needs python3 inside the sandbox for its agent relay");
        }

        string id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        int port = 20000 + RandomNumberGenerator.GetInt32(40000);
        string script = $"/tmp/.sandbox-agent-{id}.py";
        string socket = $"/tmp/.sandbox-agent-{id}.sock";
        await box.WriteFileAsync(script, Relay, cancellationToken).ConfigureAwait(false);
        var relay = await box.StartCommandAsync(
            $"exec python3 {script} {socket} {port.ToString(CultureInfo.InvariantCulture)}",
            new RunOptions { Timeout = TimeSpan.Zero, KillOnDisconnect = true, CollectOutput = false },
            cancellationToken).ConfigureAwait(false);
        try
        {
            await foreach (var chunk in relay.ReadOutputAsync(cancellationToken).ConfigureAwait(false))
            {
                if (chunk.Data.Contains("ready", StringComparison.Ordinal))
                {
                    break;
                }

                if (chunk.Stream == OutputStreamKind.Stderr)
                {
                    throw new CliException("the SSH agent relay in the sandbox failed: " + chunk.Data.Trim());
                }
            }

            var tunnel = await TunnelCommand.OpenOnFreePortAsync(box, port, cancellationToken).ConfigureAwait(false);
            return new SshAgentForwarder(relay, tunnel, local, socket);
        }
        catch
        {
            await relay.KillAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _tunnel.DisposeAsync().ConfigureAwait(false);
        using var budget = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _relay.KillAsync(budget.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SandboxException or OperationCanceledException or IOException)
        {
        }

        await _relay.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Keeps one connection parked at the relay; each one that receives bytes is served and replaced.</summary>
    private async Task ParkLoopAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            Stream stream;
            try
            {
                stream = await _tunnel.OpenStreamAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TunnelException or IOException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
                continue;
            }

            var first = new byte[64 * 1024];
            int read;
            try
            {
                read = await stream.ReadAsync(first, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                read = 0;
            }

            if (read == 0)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                continue;
            }

            _ = Task.Run(() => ServeAsync(stream, first.AsMemory(0, read), token), CancellationToken.None);
        }
    }

    private async Task ServeAsync(Stream remote, ReadOnlyMemory<byte> first, CancellationToken cancellationToken)
    {
        await using (remote.ConfigureAwait(false))
        {
            using var agent = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await agent.ConnectAsync(new UnixDomainSocketEndPoint(_localSocket), cancellationToken).ConfigureAwait(false);
                await using var local = new NetworkStream(agent, ownsSocket: false);
                await local.WriteAsync(first, cancellationToken).ConfigureAwait(false);
                var up = remote.CopyToAsync(local, cancellationToken);
                var down = local.CopyToAsync(remote, cancellationToken);
                await Task.WhenAny(up, down).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }
}
