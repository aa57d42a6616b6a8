using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Protocol;
using Sandbox.Server.Networking;
using Sandbox.Tests.Common;

namespace Sandbox.Server.Tests.Networking;

/// <summary>
/// The networking features hosted in-process on 127.0.0.1:0 as the server wires them, over fake boxes whose network
/// namespaces are scratch namespaces and whose files live in a temp folder.
/// </summary>
internal sealed class NetworkingTestServer : IAsyncDisposable
{
    public const string ApiKey = "test-api-key";

    private readonly KestrelTestHost _host;

    private NetworkingTestServer(KestrelTestHost host, FakeBoxes boxes, FakeUtcClock time)
    {
        _host = host;
        Boxes = boxes;
        Time = time;
        BaseAddress = host.BaseAddress;
        Port = BaseAddress.Port;
        Client = new HttpClient { BaseAddress = BaseAddress };
        Client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
    }

    public FakeBoxes Boxes { get; }

    public FakeUtcClock Time { get; }

    public Uri BaseAddress { get; }

    public int Port { get; }

    /// <summary>Client for the control plane (sends the API key).</summary>
    public HttpClient Client { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<NetworkingTestServer> StartAsync(Action<NetworkingOptions>? configure = null)
    {
        var time = new FakeUtcClock(DateTimeOffset.UtcNow);
        var boxes = new FakeBoxes();
        var host = await KestrelTestHost.StartAsync(app =>
        {
            app.UseWebSockets();
            app.UseSandboxServiceRouting();
            app.Use(async (context, next) =>
            {
                if (context.Request.Headers["X-Api-Key"] != ApiKey)
                {
                    context.Response.StatusCode = 401;
                    return;
                }

                await next(context);
            });
            app.MapGroup("/v2/sandboxes").MapSandboxNetworkingControlPlane();
            app.MapGroup("/dp/{id}").MapSandboxTunnel();
        }, builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(time);
            builder.Services.AddSingleton<IBoxNetworkDirectory>(boxes);
            builder.Services.AddSingleton<IApiKeyValidator>(new FixedKey());
            builder.Services.AddSandboxNetworking();
            if (configure is not null)
            {
                builder.Services.Configure(configure);
            }
        });
        return new NetworkingTestServer(host, boxes, time);
    }

    public async Task<ServiceUrlInfo> MintServiceUrlAsync(string box, object body)
    {
        using var response = await Client.PostAsJsonAsync($"/v2/sandboxes/boxes/{box}/service-url", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ServiceUrlInfo>(SandboxJson.Options))!;
    }

    /// <summary>A handler that sends every request to this server whatever the host name (<c>*.localhost</c> does not resolve here).</summary>
    public SocketsHttpHandler LoopbackHandler() => new()
    {
        UseCookies = false,
        AllowAutoRedirect = false,
        ConnectCallback = async (_, ct) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Loopback, Port, ct);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        },
    };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _host.DisposeAsync();
        Boxes.Dispose();
    }

    private sealed class FixedKey : IApiKeyValidator
    {
        public bool IsValid(string? candidate) => candidate == ApiKey;
    }

    internal sealed class FakeBoxes : IBoxNetworkDirectory, IDisposable
    {
        private readonly ConcurrentDictionary<string, (BoxNetworkTarget Box, string Root)> _boxes = new();

        private int _activeMarks;

        public int ActiveMarks => Volatile.Read(ref _activeMarks);

        public void MarkActive(string id) => Interlocked.Increment(ref _activeMarks);

        public void Add(string id, string name, string? namespacePath, string root)
            => _boxes[id] = (new BoxNetworkTarget(id, name, namespacePath), root);

        public ValueTask<BoxNetworkTarget?> FindAsync(string idOrName, CancellationToken cancellationToken = default)
            => ValueTask.FromResult(_boxes.TryGetValue(idOrName, out var entry)
                ? entry.Box
                : _boxes.Values.Select(e => e.Box).FirstOrDefault(b => b.Name == idOrName));

        public ValueTask<BoxNetworkTarget?> EnsureRunningAsync(string id, CancellationToken cancellationToken = default)
            => FindAsync(id, cancellationToken);

        public ValueTask<FileStream?> OpenFileAsync(string id, string path, CancellationToken cancellationToken = default)
        {
            if (!_boxes.TryGetValue(id, out var entry))
            {
                return ValueTask.FromResult<FileStream?>(null);
            }

            var full = Path.GetFullPath(Path.Combine(entry.Root, path.TrimStart('/')));
            return ValueTask.FromResult(full.StartsWith(entry.Root, StringComparison.Ordinal) && File.Exists(full) ? File.OpenRead(full) : null);
        }

        public void Dispose()
        {
            foreach (var (_, root) in _boxes.Values)
            {
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}
