using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace Sandbox.Client.Tests.Tunnels;

/// <summary>Two connected loopback TCP sockets, optionally wrapped as a client and a server WebSocket.</summary>
internal static class SocketPair
{
    public static async Task<(Socket Left, Socket Right)> CreateAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var left = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptAsync();
        await left.ConnectAsync(listener.LocalEndPoint!);
        return (left, await accept);
    }

    public static async Task<(WebSocket Client, WebSocket Server)> CreateWebSocketsAsync()
    {
        var (left, right) = await CreateAsync();
        var client = WebSocket.CreateFromStream(new NetworkStream(left, ownsSocket: true), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = TimeSpan.Zero });
        var server = WebSocket.CreateFromStream(new NetworkStream(right, ownsSocket: true), new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        return (client, server);
    }
}
