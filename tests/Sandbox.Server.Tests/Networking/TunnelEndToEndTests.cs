using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Client;
using Sandbox.Client.Tunnels;
using Sandbox.Server.Networking;
using Sandbox.Server.Tunnels;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Networking;

/// <summary>The client's SandboxTunnel against the server's tunnel stream handler dialing into a network namespace.</summary>
public sealed class TunnelEndToEndTests : IDisposable
{
    private readonly NetworkNamespaceSocketFactory _factory = new(NullLogger<NetworkNamespaceSocketFactory>.Instance);

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Tunnel_CarriesBytesBothWays_ForSeveralConcurrentConnections()
    {
        var port = NetworkNamespaceSocketFactoryTests.FreeHostPort();
        using var ns = ScratchNetworkNamespace.StartEchoServer(port);
        (await NetworkNamespaceSocketFactoryTests.ConnectWithRetryAsync(_factory, ns.NamespacePath, port)).Dispose();
        await using var tunnel = await StartAsync(ns.NamespacePath, port);

        var payloads = Enumerable.Range(0, 4).Select(_ => RandomNumberGenerator.GetBytes(700 * 1024)).ToArray();
        await Task.WhenAll(payloads.Select(async payload =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, tunnel.LocalPort);
            var stream = client.GetStream();
            var echo = new byte[payload.Length];
            var read = stream.ReadExactlyAsync(echo).AsTask();
            await stream.WriteAsync(payload);
            client.Client.Shutdown(SocketShutdown.Send);
            await read.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(payload, echo);
            Assert.Equal(0, await stream.ReadAsync(new byte[1]));
        }));
    }

    [Fact]
    public async Task OpenStream_WhenNothingListens_ThrowsDialFailed()
    {
        using var ns = ScratchNetworkNamespace.Start("sleep 30");
        await NetworkNamespaceSocketFactoryTests.WaitForNamespaceAsync(ns);
        await using var tunnel = await StartAsync(ns.NamespacePath, NetworkNamespaceSocketFactoryTests.FreeHostPort());
        var error = await Assert.ThrowsAsync<TunnelException>(() => tunnel.OpenStreamAsync());
        Assert.Contains("nothing is listening", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerAnswersBadVersionAndPortZero()
    {
        var (client, server) = await CreateWebSocketsAsync();
        using var stop = new CancellationTokenSource();
        var serverTask = new TunnelStreamServer((p, ct) => _factory.ConnectLoopbackAsync("/proc/self/ns/net", p, ct), NullLogger.Instance)
            .RunAsync(new WebSocketByteStream(server), stop.Token);
        await using var session = YamuxSession.StartClient(new WebSocketByteStream(client), TimeSpan.Zero);

        var badVersion = await session.OpenStreamAsync();
        await badVersion.WriteAsync(new byte[] { 0x02, 0x00, 0x50 });
        Assert.Equal(TunnelStreamServer.StatusUnsupportedVersion, await ReadStatusAsync(badVersion));

        var portZero = await session.OpenStreamAsync();
        await portZero.WriteAsync(new byte[] { 0x01, 0x00, 0x00 });
        Assert.Equal(TunnelStreamServer.StatusPortNotAllowed, await ReadStatusAsync(portZero));

        await session.CloseAsync();
        await serverTask.WaitAsync(TimeSpan.FromSeconds(5));
    }

    private async Task<SandboxTunnel> StartAsync(string namespacePath, int remotePort)
    {
        var connector = new TunnelConnector(
            async ct =>
            {
                var (client, server) = await CreateWebSocketsAsync();
                _ = new TunnelStreamServer((p, ct) => _factory.ConnectLoopbackAsync(namespacePath, p, ct), NullLogger.Instance)
                    .RunAsync(new WebSocketByteStream(server), CancellationToken.None);
                return new WebSocketByteStream(client);
            },
            pingInterval: TimeSpan.Zero);
        return await SandboxTunnel.StartAsync(connector, remotePort, NetworkNamespaceSocketFactoryTests.FreeHostPort(), null, CancellationToken.None);
    }

    private static async Task<byte> ReadStatusAsync(Stream stream)
    {
        var status = new byte[1];
        await stream.ReadExactlyAsync(status).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        return status[0];
    }

    private static async Task<(System.Net.WebSockets.WebSocket Client, System.Net.WebSockets.WebSocket Server)> CreateWebSocketsAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var left = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptAsync();
        await left.ConnectAsync(listener.LocalEndPoint!);
        var right = await accept;
        return (
            System.Net.WebSockets.WebSocket.CreateFromStream(new NetworkStream(left, true), new System.Net.WebSockets.WebSocketCreationOptions { IsServer = false }),
            System.Net.WebSockets.WebSocket.CreateFromStream(new NetworkStream(right, true), new System.Net.WebSockets.WebSocketCreationOptions { IsServer = true }));
    }
}
