using Sandbox.Client.Tunnels;
using Sandbox.Protocol;

namespace Sandbox.Client;

public sealed partial class SandboxInstance
{
    /// <summary>
    /// Opens a TCP tunnel to <paramref name="remotePort"/> inside the sandbox (spec 8.6): a yamux session over the
    /// data-plane WebSocket <c>{dataplane_url}/tunnel</c> and a listener on <c>127.0.0.1:<paramref name="localPort"/></c>.
    /// </summary>
    /// <param name="remotePort">The port inside the sandbox, 1..65535.</param>
    /// <param name="localPort">The local port; 0 (the default) uses the same number as <paramref name="remotePort"/> (spec 8.6.5).</param>
    /// <param name="cancellationToken">Cancels opening the tunnel.</param>
    /// <returns>The running tunnel; dispose it to close the listener and the session.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A port is out of range.</exception>
    /// <exception cref="DataplaneNotConfiguredException">The sandbox has no <c>dataplane_url</c>.</exception>
    /// <exception cref="TunnelException">The local port is already in use.</exception>
    /// <remarks>
    /// Only the API key is sent on the upgrade (no default headers), and WebSocket pings are off: yamux pings every 30 s
    /// keep the session alive. A session that ends is re-established when the next local connection arrives (3 attempts).
    /// </remarks>
    public async Task<SandboxTunnel> OpenTunnelAsync(int remotePort, int localPort = 0, CancellationToken cancellationToken = default)
    {
        SandboxTunnel.ValidatePorts(remotePort, localPort);
        var uri = GetDataplaneWebSocketUri("/tunnel", trimTrailingSlashes: true);
        var runtime = Client.Runtime;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrEmpty(runtime.ApiKey))
        {
            headers[SandboxRuntime.ApiKeyHeader] = runtime.ApiKey;
        }

        var connector = new TunnelConnector(
            async ct => new WebSocketByteStream(await WebSocketConnector.ConnectAsync(
                runtime, uri, headers, runtime.Options.WebSocketOpenTimeout, keepAlive: false, ct).ConfigureAwait(false)),
            maxReconnects: 3,
            pingInterval: TimeSpan.FromSeconds(30),
            timeProvider: runtime.Time);
        return await SandboxTunnel.StartAsync(connector, remotePort, localPort, runtime.Logger, cancellationToken).ConfigureAwait(false);
    }
}
