using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Sandbox.Client.Tunnels;
using Sandbox.Protocol;

namespace Sandbox.Client.Tests.Tunnels;

/// <summary>Client-side yamux and tunnel behaviour of base spec §11 items 75–84, against a scripted fake peer.</summary>
public sealed class YamuxClientConformanceTests
{
    private static readonly TimeSpan NoPings = TimeSpan.Zero;

    // 75
    [Theory]
    [InlineData("http://example.com/sandbox", "ws://example.com/sandbox/tunnel")]
    [InlineData("https://example.com/sandbox/", "wss://example.com/sandbox/tunnel")]
    [InlineData("http://127.0.0.1:8080/dp/abc", "ws://127.0.0.1:8080/dp/abc/tunnel")]
    public void TunnelUrl_MapsSchemeAndAppendsTunnel(string dataplane, string expected)
        => Assert.Equal(expected, WebSocketConnector.ToWebSocketUri(dataplane, "/tunnel", trimTrailingSlashes: true).ToString());

    [Fact]
    public void FrameHeader_IsBigEndianTwelveBytes()
    {
        var bytes = new byte[12];
        new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn | YamuxFlags.Ack, 0x01020304, 0x0A0B0C0D).Write(bytes);
        Assert.Equal(new byte[] { 0, 1, 0, 3, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D }, bytes);
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn | YamuxFlags.Ack, 0x01020304, 0x0A0B0C0D), YamuxFrameHeader.Read(bytes));
    }

    // 76
    [Theory]
    [InlineData(5432, new byte[] { 0x01, 0x15, 0x38 })]
    [InlineData(65535, new byte[] { 0x01, 0xFF, 0xFF })]
    public async Task OpenStream_SendsConnectHeaderThenReadsOneStatusByte(int port, byte[] expectedHeader)
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var tunnel = await StartTunnelAsync(transport, port);

        var open = tunnel.OpenStreamAsync();
        var syn = await peer.ReadFrameAsync();
        Assert.Equal((YamuxFrameType.WindowUpdate, YamuxFlags.Syn, 1u, 0u), (syn.Header.Type, syn.Header.Flags, syn.Header.StreamId, syn.Header.Length));
        var header = await peer.ReadFrameAsync();
        Assert.Equal(YamuxFrameType.Data, header.Header.Type);
        Assert.Equal(expectedHeader, header.Payload);

        await peer.SendDataAsync(1, [0x00, (byte)'h', (byte)'i']);
        await using var stream = await open;
        var buffer = new byte[2];
        await stream.ReadExactlyAsync(buffer);
        Assert.Equal("hi", Encoding.ASCII.GetString(buffer));
    }

    [Theory]
    [InlineData(0x01, "not allowed")]
    [InlineData(0x02, "nothing is listening")]
    [InlineData(0x03, "version")]
    public async Task OpenStream_WhenStatusIsFailure_ThrowsTunnelException(byte status, string expected)
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var tunnel = await StartTunnelAsync(transport, 5432);
        var open = tunnel.OpenStreamAsync();
        await peer.ReadFrameAsync();
        await peer.ReadFrameAsync();
        await peer.SendDataAsync(1, [status]);
        var error = await Assert.ThrowsAsync<TunnelException>(() => open);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        var fin = await peer.ReadFrameAsync();
        Assert.Equal((YamuxFrameType.Data, YamuxFlags.Fin), (fin.Header.Type, fin.Header.Flags));
    }

    [Fact]
    public async Task OpenStream_WhenStreamEndsBeforeStatus_ThrowsTunnelException()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var tunnel = await StartTunnelAsync(transport, 5432);
        var open = tunnel.OpenStreamAsync();
        await peer.ReadFrameAsync();
        await peer.ReadFrameAsync();
        await peer.SendAsync(YamuxFrameType.Data, YamuxFlags.Fin, 1, 0);
        var error = await Assert.ThrowsAsync<TunnelException>(() => open);
        Assert.Contains("before its status byte", error.Message, StringComparison.Ordinal);
    }

    // 77
    [Fact]
    public async Task OpenStream_UsesOddIdsInOrder_AndDataFramesRespectSendWindow()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var session = YamuxSession.StartClient(transport, NoPings);

        var streams = new List<YamuxStream>();
        for (var i = 0; i < 3; i++)
        {
            streams.Add(await session.OpenStreamAsync());
            var syn = await peer.ReadFrameAsync();
            Assert.Equal(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.Syn, (uint)(1 + (2 * i)), 0), syn.Header);
        }

        var payload = new byte[YamuxSession.InitialWindow + 1000];
        Random.Shared.NextBytes(payload);
        var write = streams[0].WriteAsync(payload).AsTask();
        var received = new MemoryStream();
        while (received.Length < YamuxSession.InitialWindow)
        {
            var frame = await peer.ReadFrameAsync();
            Assert.Equal((YamuxFrameType.Data, YamuxFlags.None, 1u), (frame.Header.Type, frame.Header.Flags, frame.Header.StreamId));
            Assert.Equal(frame.Payload.Length, (int)frame.Header.Length);
            received.Write(frame.Payload);
        }

        Assert.Equal(YamuxSession.InitialWindow, received.Length);
        Assert.True(await peer.IsQuietAsync(TimeSpan.FromMilliseconds(200)), "the client wrote past its send window");
        Assert.False(write.IsCompleted);

        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.None, 1, 4096);
        var rest = await peer.ReadFrameAsync();
        Assert.Equal(1000, rest.Payload.Length);
        received.Write(rest.Payload);
        await write;
        Assert.Equal(payload, received.ToArray());
    }

    // 78
    [Fact]
    public async Task DataWithFin_YieldsBufferedBytesThenEndOfStream()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var session = YamuxSession.StartClient(transport, NoPings);
        var stream = await session.OpenStreamAsync();
        await peer.SendDataAsync(1, Encoding.ASCII.GetBytes("end"), YamuxFlags.Fin);

        using var reader = new StreamReader(stream);
        Assert.Equal("end", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task DataWithRst_YieldsBufferedBytesThenResetError()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var session = YamuxSession.StartClient(transport, NoPings);
        var stream = await session.OpenStreamAsync();
        await peer.SendDataAsync(1, Encoding.ASCII.GetBytes("abc"));
        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.Rst, 1, 0);

        var buffer = new byte[3];
        await WaitUntilAsync(() => stream.IsReset);
        await stream.ReadExactlyAsync(buffer);
        Assert.Equal("abc", Encoding.ASCII.GetString(buffer));
        await Assert.ThrowsAsync<IOException>(async () => await stream.ReadExactlyAsync(buffer));
        await Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync(buffer));
    }

    // 79
    [Fact]
    public async Task PingWithSyn_IsAnsweredWithAckAndSameOpaque()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var session = YamuxSession.StartClient(transport, NoPings);
        await peer.SendAsync(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 42);
        var pong = await peer.ReadFrameAsync();
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Ack, 0, 42), pong.Header);
    }

    [Fact]
    public async Task Session_SendsPingsWithIncreasingOpaque()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var session = YamuxSession.StartClient(transport, TimeSpan.FromMilliseconds(50));
        var first = await peer.ReadFrameAsync();
        var second = await peer.ReadFrameAsync();
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 1), first.Header);
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 2), second.Header);
    }

    // 80
    [Fact]
    public async Task WindowUpdates_GrowSendWindow_AndConsumptionOf128KiBSendsOneUpdate()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var session = YamuxSession.StartClient(transport, NoPings);
        var stream = await session.OpenStreamAsync();
        await peer.ReadFrameAsync();

        await peer.SendAsync(YamuxFrameType.WindowUpdate, YamuxFlags.None, 1, 1024);
        await WaitUntilAsync(() => stream.SendWindow == YamuxSession.InitialWindow + 1024);

        await peer.SendDataAsync(1, new byte[10]);
        await stream.ReadExactlyAsync(new byte[10]);
        Assert.True(await peer.IsQuietAsync(TimeSpan.FromMilliseconds(200)), "reading 10 bytes must not send a window update");

        var chunk = new byte[32 * 1024];
        for (var i = 0; i < 4; i++)
        {
            await peer.SendDataAsync(1, chunk);
        }

        await stream.ReadExactlyAsync(new byte[(128 * 1024) - 10]);
        var update = await peer.ReadFrameAsync();
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.WindowUpdate, YamuxFlags.None, 1, 131072), update.Header);
        Assert.True(await peer.IsQuietAsync(TimeSpan.FromMilliseconds(200)));
    }

    // 81
    [Fact]
    public async Task GoAway_ClosesSessionAndResetsStreams()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var session = YamuxSession.StartClient(transport, NoPings);
        var stream = await session.OpenStreamAsync();
        await peer.SendAsync(YamuxFrameType.GoAway, YamuxFlags.None, 0, 0);
        await session.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(session.IsClosed);
        await Assert.ThrowsAsync<IOException>(async () => await stream.ReadExactlyAsync(new byte[1]));
        await Assert.ThrowsAsync<IOException>(() => session.OpenStreamAsync());
    }

    [Fact]
    public async Task ClosingSession_SendsGoAway_AndClosingStreamSendsFin()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        var session = YamuxSession.StartClient(transport, NoPings);
        var stream = await session.OpenStreamAsync();
        await peer.ReadFrameAsync();

        await stream.DisposeAsync();
        var fin = await peer.ReadFrameAsync();
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.Data, YamuxFlags.Fin, 1, 0), fin.Header);
        await Assert.ThrowsAsync<IOException>(async () => await stream.WriteAsync(new byte[1]));

        await session.CloseAsync();
        var goAway = await peer.ReadFrameAsync();
        Assert.Equal(new YamuxFrameHeader(YamuxFrameType.GoAway, YamuxFlags.None, 0, 0), goAway.Header);
    }

    [Fact]
    public async Task InterleavedDataFrames_AreDeliveredToTheirStreamsInOrder()
    {
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var session = YamuxSession.StartClient(transport, NoPings);
        var a = await session.OpenStreamAsync();
        var b = await session.OpenStreamAsync();
        await peer.SendDataAsync(1, "a1"u8.ToArray());
        await peer.SendDataAsync(3, "b1"u8.ToArray());
        await peer.SendDataAsync(1, "a2"u8.ToArray(), YamuxFlags.Fin);
        await peer.SendDataAsync(3, "b2"u8.ToArray(), YamuxFlags.Fin);
        await peer.SendDataAsync(99, "ignored"u8.ToArray());

        Assert.Equal("a1a2", await new StreamReader(a).ReadToEndAsync());
        Assert.Equal("b1b2", await new StreamReader(b).ReadToEndAsync());
    }

    // 82
    [Fact]
    public async Task WebSocketByteStream_ReadsSpanMessages_ConvertsText_AndWritesOneMessagePerWrite()
    {
        var (client, server) = await SocketPair.CreateWebSocketsAsync();
        await using var stream = new WebSocketByteStream(client);
        await using var peer = new FakeYamuxPeer(server);

        await server.SendAsync("abc"u8.ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
        await server.SendAsync("def"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[5];
        await stream.ReadExactlyAsync(buffer);
        Assert.Equal("abcde", Encoding.ASCII.GetString(buffer));
        Assert.Equal(1, await stream.ReadAsync(buffer));
        Assert.Equal((byte)'f', buffer[0]);

        var header = new byte[12];
        new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 7).Write(header);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => stream.WriteAsync(header).AsTask()));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(new YamuxFrameHeader(YamuxFrameType.Ping, YamuxFlags.Syn, 0, 7), (await peer.ReadFrameAsync()).Header);
        }

        Assert.Equal(20, peer.MessagesReceived);
    }

    // 83
    [Fact]
    public async Task DeadSession_IsReestablishedOnceForFiveConcurrentConnections()
    {
        var peers = new List<FakeYamuxPeer>();
        var responders = new List<Task>();
        var connects = 0;
        var connector = new TunnelConnector(
            async _ =>
            {
                Interlocked.Increment(ref connects);
                var (peer, transport) = await FakeYamuxPeer.CreateAsync();
                lock (peers)
                {
                    peers.Add(peer);
                    responders.Add(AnswerConnectHeadersAsync(peer));
                }

                return transport;
            },
            maxReconnects: 3,
            pingInterval: NoPings,
            backoff: _ => TimeSpan.Zero);
        await using var tunnel = await SandboxTunnel.StartAsync(connector, 8080, FreePort(), null, CancellationToken.None);

        await peers[0].DisposeAsync();
        await connector.Current!.Completion.WaitAsync(TimeSpan.FromSeconds(5));

        var clients = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, tunnel.LocalPort);
            var stream = client.GetStream();
            await stream.WriteAsync("x"u8.ToArray());
            var echo = new byte[1];
            await stream.ReadExactlyAsync(echo).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            return (client, echo[0]);
        }));

        Assert.Equal(2, connects);
        Assert.All(clients, c => Assert.Equal((byte)'x', c.Item2));
        foreach (var (client, _) in clients)
        {
            client.Dispose();
        }

        foreach (var peer in peers)
        {
            await peer.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(2, 3)] // every re-establishment fails: the first connection plus two attempts
    [InlineData(0, 1)] // re-establishment disabled: no attempt after the first connection
    public async Task Reconnect_WhenEveryAttemptFails_ThrowsReconnectFailedAfterTheAllowedAttempts(int maxReconnects, int expectedConnects)
    {
        var attempts = 0;
        var (peer, firstTransport) = await FakeYamuxPeer.CreateAsync();
        var connector = new TunnelConnector(
            _ => ++attempts == 1 ? Task.FromResult(firstTransport) : throw new WebSocketException("refused"),
            maxReconnects: maxReconnects,
            pingInterval: NoPings,
            backoff: _ => TimeSpan.Zero);
        await connector.StartAsync(CancellationToken.None);
        await peer.DisposeAsync();
        await connector.Current!.Completion.WaitAsync(TimeSpan.FromSeconds(5));

        var error = await Assert.ThrowsAsync<TunnelException>(() => connector.GetSessionAsync(CancellationToken.None));
        Assert.Contains("reconnect failed", error.Message, StringComparison.Ordinal);
        Assert.Equal(expectedConnects, attempts);
        await connector.DisposeAsync();
    }

    // 84
    [Fact]
    public async Task LocalPort_DefaultsToRemotePort()
    {
        var port = FreePort();
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        await using var tunnel = await SandboxTunnel.StartAsync(new TunnelConnector(_ => Task.FromResult(transport), pingInterval: NoPings), port, 0, null, CancellationToken.None);
        Assert.Equal(port, tunnel.LocalPort);
        Assert.Equal(port, tunnel.RemotePort);
    }

    [Theory]
    [InlineData(0, 8080)]
    [InlineData(70000, 8080)]
    [InlineData(8080, 70000)]
    [InlineData(8080, -1)]
    public void Ports_OutOfRange_AreRejected(int remote, int local)
        => Assert.Throws<ArgumentOutOfRangeException>(() => SandboxTunnel.ValidatePorts(remote, local));

    [Fact]
    public async Task LocalPortInUse_IsRefused()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var (peer, transport) = await FakeYamuxPeer.CreateAsync();
        await using var _ = peer;
        var error = await Assert.ThrowsAsync<TunnelException>(() => SandboxTunnel.StartAsync(new TunnelConnector(_ => Task.FromResult(transport), pingInterval: NoPings), 5432, port, null, CancellationToken.None));
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    private static async Task<SandboxTunnel> StartTunnelAsync(Stream transport, int remotePort)
        => await SandboxTunnel.StartAsync(new TunnelConnector(_ => Task.FromResult(transport), pingInterval: NoPings), remotePort, FreePort(), null, CancellationToken.None);

    /// <summary>Answers every connect header with status 0 and echoes data back on the same stream.</summary>
    private static async Task AnswerConnectHeadersAsync(FakeYamuxPeer peer)
    {
        var connected = new HashSet<uint>();
        try
        {
            while (true)
            {
                var (header, payload) = await peer.ReadFrameAsync(TimeSpan.FromSeconds(30));
                if (header.Type != YamuxFrameType.Data || payload.Length == 0)
                {
                    continue;
                }

                if (connected.Add(header.StreamId))
                {
                    await peer.SendDataAsync(header.StreamId, [0x00]);
                }
                else
                {
                    await peer.SendDataAsync(header.StreamId, payload);
                }
            }
        }
        catch (Exception ex) when (ex is EndOfStreamException or OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 5 s");
            await Task.Delay(10);
        }
    }
}
