using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Client.Tunnels;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// A TCP tunnel to a port inside a sandbox: a listener on <c>127.0.0.1:<see cref="LocalPort"/></c> whose every
/// connection becomes one yamux stream over the sandbox's tunnel WebSocket (spec 8.6).
/// </summary>
/// <remarks>
/// Thread-safe. A closed session is re-established on demand when the next connection arrives (at most 3 attempts,
/// serialized); existing streams are not migrated. Disposing stops the listener, closes every stream and sends Go Away.
/// </remarks>
public sealed partial class SandboxTunnel : IAsyncDisposable
{
    private readonly TunnelConnector _connector;
    private readonly TcpListener _listener;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly List<Task> _connections = [];
    private int _disposed;

    private SandboxTunnel(TunnelConnector connector, TcpListener listener, int remotePort, ILogger logger)
    {
        _connector = connector;
        _listener = listener;
        _logger = logger;
        RemotePort = remotePort;
        LocalPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The local port on 127.0.0.1 that forwards to <see cref="RemotePort"/>.</summary>
    public int LocalPort { get; }

    /// <summary>The port inside the sandbox.</summary>
    public int RemotePort { get; }

    internal TunnelConnector Connector => _connector;

    /// <summary>
    /// Opens one connection to <see cref="RemotePort"/> inside the sandbox without going through the local listener.
    /// </summary>
    /// <returns>A stream carrying the raw TCP bytes; dispose it to close the connection.</returns>
    /// <exception cref="TunnelException">
    /// The sandbox refused the connection (nothing listening, port not allowed, unsupported version) or the session
    /// could not be re-established.
    /// </exception>
    public async Task<Stream> OpenStreamAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return await OpenYamuxStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(false);
        await _connector.DisposeAsync().ConfigureAwait(false);
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
        _stop.Dispose();
    }

    /// <summary>Validates ports, opens the first session, then the local listener (spec 8.6.4, 8.6.5).</summary>
    internal static async Task<SandboxTunnel> StartAsync(
        TunnelConnector connector,
        int remotePort,
        int localPort,
        ILogger? logger,
        CancellationToken cancellationToken)
    {
        ValidatePorts(remotePort, localPort);
        var port = localPort == 0 ? remotePort : localPort;
        await connector.StartAsync(cancellationToken).ConfigureAwait(false);
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Server.ExclusiveAddressUse = true;
            listener.Start(128);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            await connector.DisposeAsync().ConfigureAwait(false);
            throw new TunnelException($"tunnel: local port {port} is already in use; pass another local port.", ex);
        }

        return new SandboxTunnel(connector, listener, remotePort, logger ?? NullLogger.Instance);
    }

    /// <summary>Rejects a remote port outside 1..65535 and a non-zero local port outside 1..65535 (spec 3.8).</summary>
    internal static void ValidatePorts(int remotePort, int localPort)
    {
        if (remotePort is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(remotePort), remotePort, "remote_port must be between 1 and 65535.");
        }

        if (localPort is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(localPort), localPort, "local_port must be 0 (same as remote_port) or between 1 and 65535.");
        }
    }

    internal static byte[] ConnectHeader(int port) => [0x01, (byte)(port >> 8), (byte)port];

    private async Task<YamuxStream> OpenYamuxStreamAsync(CancellationToken cancellationToken)
    {
        var session = await _connector.GetSessionAsync(cancellationToken).ConfigureAwait(false);
        YamuxStream stream;
        try
        {
            stream = await session.OpenStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new TunnelException("tunnel: the session closed while opening a stream.", ex);
        }

        try
        {
            await stream.WriteAsync(ConnectHeader(RemotePort), cancellationToken).ConfigureAwait(false);
            var status = new byte[1];
            if (await stream.ReadAsync(status, cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new TunnelException($"tunnel: the stream to port {RemotePort} ended before its status byte.");
            }

            return status[0] switch
            {
                0x00 => stream,
                0x01 => throw new TunnelException($"tunnel: port {RemotePort} is not allowed by the sandbox."),
                0x02 => throw new TunnelException($"tunnel: nothing is listening on port {RemotePort} inside the sandbox (dial failed)."),
                0x03 => throw new TunnelException("tunnel: the sandbox does not support this tunnel protocol version."),
                var other => throw new TunnelException($"tunnel: unknown status byte 0x{other:x2} for port {RemotePort}."),
            };
        }
        catch (IOException ex)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw new TunnelException($"tunnel: the stream to port {RemotePort} failed before it was connected.", ex);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var connection = ServeAsync(client);
            lock (_connections)
            {
                _connections.RemoveAll(static t => t.IsCompleted);
                _connections.Add(connection);
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        await Task.Yield();
        using (client)
        {
            YamuxStream stream;
            try
            {
                client.NoDelay = true;
                stream = await OpenYamuxStreamAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (TunnelException ex)
            {
                LogConnectionRefused(_logger, RemotePort, ex.Message);
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await using (stream.ConfigureAwait(false))
            {
                try
                {
                    await TunnelPump.RunAsync(stream, client, _stop.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // Either side went away; both are closed on the way out.
                }
            }
        }
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Tunnel connection to remote port {RemotePort} closed: {Reason}")]
    private static partial void LogConnectionRefused(ILogger logger, int remotePort, string reason);
}
