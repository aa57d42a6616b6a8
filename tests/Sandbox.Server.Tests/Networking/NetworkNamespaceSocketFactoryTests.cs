using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Server.Networking;

namespace Sandbox.Server.Tests.Networking;

public sealed class NetworkNamespaceSocketFactoryTests
{
    [Fact]
    public async Task ConnectLoopback_ReachesListenerInsideNamespace_ButNotOnHostLoopback()
    {
        var port = FreeHostPort();
        using var ns = ScratchNetworkNamespace.StartEchoServer(port);
        using var factory = new NetworkNamespaceSocketFactory(NullLogger<NetworkNamespaceSocketFactory>.Instance);

        using var socket = await ConnectWithRetryAsync(factory, ns.NamespacePath, port);
        await socket.SendAsync("ping"u8.ToArray());
        var buffer = new byte[4];
        Assert.Equal(4, await socket.ReceiveAsync(buffer));
        Assert.Equal("ping"u8.ToArray(), buffer);

        using var host = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await host.ConnectAsync(IPAddress.Loopback, port));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task ListenLoopback_IsOnlyReachableFromInsideNamespace()
    {
        using var ns = ScratchNetworkNamespace.Start("sleep 30");
        using var factory = new NetworkNamespaceSocketFactory(NullLogger<NetworkNamespaceSocketFactory>.Instance);
        await WaitForNamespaceAsync(ns);
        var port = FreeHostPort();
        using var listener = await factory.ListenLoopbackAsync(ns.NamespacePath, port);

        using var inside = await factory.ConnectLoopbackAsync(ns.NamespacePath, port);
        using var accepted = await listener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(accepted.Connected);

        using var host = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(async () => await host.ConnectAsync(IPAddress.Loopback, port));
    }

    [Fact]
    public async Task CreateSocket_ForMissingNamespace_ThrowsIOException()
    {
        using var factory = new NetworkNamespaceSocketFactory(NullLogger<NetworkNamespaceSocketFactory>.Instance);
        await Assert.ThrowsAnyAsync<IOException>(() => factory.CreateTcpSocketAsync("/proc/999999999/ns/net"));

        // The worker thread survives and keeps serving.
        using var socket = await factory.CreateTcpSocketAsync("/proc/self/ns/net");
        Assert.NotNull(socket);
    }

    internal static int FreeHostPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static async Task<Socket> ConnectWithRetryAsync(NetworkNamespaceSocketFactory factory, string ns, int port)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await factory.ConnectLoopbackAsync(ns, port);
            }
            catch (Exception ex) when ((ex is SocketException or IOException) && attempt < 600)
            {
                await Task.Delay(50);
            }
        }
    }

    internal static async Task WaitForNamespaceAsync(ScratchNetworkNamespace ns)
    {
        // unshare has entered the namespace once its ns/net link differs from ours.
        var own = File.ResolveLinkTarget("/proc/self/ns/net", false)?.ToString();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                if (File.ResolveLinkTarget(ns.NamespacePath, false)?.ToString() != own)
                {
                    return;
                }
            }
            catch (IOException)
            {
            }

            await Task.Delay(20);
        }
    }
}
