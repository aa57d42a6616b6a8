using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Sandbox.Server.Networking.Egress;

/// <summary>
/// Runs one egress proxy listener per box on the box's own loopback (<c>127.0.0.1:3128</c> inside its network
/// namespace), so a box reaches the proxy without any interface leaving it. A listener closes itself when the box's
/// namespace goes away or changes (stop, restart), so it never keeps a dead namespace alive.
/// </summary>
internal sealed partial class EgressListeners(
    NetworkNamespaceSocketFactory sockets,
    EgressProxy proxy,
    IServiceProvider services,
    IOptions<NetworkingOptions> options,
    TimeProvider timeProvider,
    ILogger<EgressListeners> logger) : IAsyncDisposable
{
    private static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(2);
    private readonly ConcurrentDictionary<string, Listener> _listeners = new();

    /// <summary>The listener port inside each box.</summary>
    public int Port => options.Value.EgressProxyPort;

    /// <summary>Whether a listener runs for the box.</summary>
    public bool IsListening(string boxId) => _listeners.ContainsKey(boxId);

    /// <summary>Starts (or restarts) the listener of a box in <paramref name="namespacePath"/> with <paramref name="policy"/>.</summary>
    public async Task StartAsync(string boxId, string namespacePath, EgressPolicy policy, CancellationToken cancellationToken, Sandbox.Protocol.ProxyConfig? config = null)
    {
        if (_listeners.TryGetValue(boxId, out var existing))
        {
            if (existing.NamespacePath == namespacePath)
            {
                existing.Policy = policy;
                existing.Config = config;
                return;
            }

            await StopAsync(boxId).ConfigureAwait(false);
        }

        var socket = await sockets.ListenLoopbackAsync(namespacePath, Port, 128, cancellationToken).ConfigureAwait(false);
        var listener = new Listener(boxId, namespacePath, socket, policy);
        if (!_listeners.TryAdd(boxId, listener))
        {
            socket.Dispose();
            return;
        }

        listener.Config = config;
        listener.Loops = Task.WhenAll(AcceptLoopAsync(listener), WatchAsync(listener));
        LogStarted(logger, boxId, Port);
    }

    /// <summary>Replaces the policy of a running listener (proxy_config updated).</summary>
    public void UpdatePolicy(string boxId, EgressPolicy policy)
    {
        if (_listeners.TryGetValue(boxId, out var listener))
        {
            listener.Policy = policy;
        }
    }

    /// <summary>Stops the listener of a box and the connections it serves.</summary>
    public async Task StopAsync(string boxId)
    {
        if (!_listeners.TryRemove(boxId, out var listener))
        {
            return;
        }

        await listener.Stop.CancelAsync().ConfigureAwait(false);
        listener.Socket.Dispose();
        try
        {
            await (listener.Loops ?? Task.CompletedTask).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // Stopping.
        }

        listener.Stop.Dispose();
        LogStopped(logger, boxId);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var boxId in _listeners.Keys.ToList())
        {
            await StopAsync(boxId).ConfigureAwait(false);
        }
    }

    private async Task AcceptLoopAsync(Listener listener)
    {
        await Task.Yield();
        var connections = new List<Task>();
        while (!listener.Stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.Socket.AcceptAsync(listener.Stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                break;
            }

            client.NoDelay = true;
            services.GetRequiredService<IBoxNetworkDirectory>().MarkActive(listener.BoxId);
            connections.RemoveAll(static t => t.IsCompleted);
            connections.Add(proxy.HandleAsync(new NetworkStream(client, ownsSocket: true), listener.BoxId, listener.Policy, listener.Stop.Token));
        }

        await Task.WhenAll(connections).ConfigureAwait(false);
    }

    private async Task WatchAsync(Listener listener)
    {
        using var timer = new PeriodicTimer(WatchInterval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(listener.Stop.Token).ConfigureAwait(false))
            {
                // Resolved late: the box directory depends on the box runtime, which depends on this listener's contributor.
                var boxes = services.GetRequiredService<IBoxNetworkDirectory>();
                var box = await boxes.FindAsync(listener.BoxId, listener.Stop.Token).ConfigureAwait(false);
                if (box?.NetworkNamespacePath != listener.NamespacePath)
                {
                    _ = StopAsync(listener.BoxId);
                    return;
                }

                RefreshPolicy(listener, boxes.GetProxyConfig(listener.BoxId));
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    /// <summary>Applies an updated proxy_config (PATCH) to a running listener; an invalid one keeps the previous policy.</summary>
    private void RefreshPolicy(Listener listener, Sandbox.Protocol.ProxyConfig? config)
    {
        if (config is null || ReferenceEquals(config, listener.Config))
        {
            return;
        }

        listener.Config = config;
        try
        {
            listener.Policy = EgressPolicy.Compile(config);
            LogPolicyUpdated(logger, listener.BoxId);
        }
        catch (FormatException ex)
        {
            LogPolicyRejected(logger, listener.BoxId, ex.Message);
        }
    }

    [LoggerMessage(EventId = 5412, Level = LogLevel.Information, Message = "Egress policy of box {BoxId} updated")]
    private static partial void LogPolicyUpdated(ILogger logger, string boxId);

    [LoggerMessage(EventId = 5413, Level = LogLevel.Warning, Message = "Updated proxy_config of box {BoxId} is invalid and was not applied: {Reason}")]
    private static partial void LogPolicyRejected(ILogger logger, string boxId, string reason);

    [LoggerMessage(EventId = 5410, Level = LogLevel.Information, Message = "Egress proxy listening inside box {BoxId} on 127.0.0.1:{Port}")]
    private static partial void LogStarted(ILogger logger, string boxId, int port);

    [LoggerMessage(EventId = 5411, Level = LogLevel.Information, Message = "Egress proxy of box {BoxId} stopped")]
    private static partial void LogStopped(ILogger logger, string boxId);

    private sealed class Listener(string boxId, string namespacePath, Socket socket, EgressPolicy policy)
    {
        public string BoxId { get; } = boxId;

        public string NamespacePath { get; } = namespacePath;

        public Socket Socket { get; } = socket;

        public CancellationTokenSource Stop { get; } = new();

        public Task? Loops { get; set; }

        public EgressPolicy Policy { get; set; } = policy;

        public Sandbox.Protocol.ProxyConfig? Config { get; set; }
    }
}
