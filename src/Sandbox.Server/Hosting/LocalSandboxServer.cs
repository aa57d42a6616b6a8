using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Client;
using Sandbox.Server.Files;
using Sandbox.Server.Runtime;

namespace Sandbox.Server;

/// <summary>
/// The local sandbox server running in-process on a loopback port: a LangSmith-compatible sandbox API whose boxes are
/// Linux namespaces (bubblewrap) on this machine.
/// </summary>
/// <remarks>
/// Disposing stops the server, kills every box process and deletes the data folder if the server created it.
/// Thread-safe. Requires Linux and root (namespaces, cgroups).
/// </remarks>
public sealed class LocalSandboxServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerState _state;
    private int _disposed;

    private LocalSandboxServer(WebApplication app, ServerState state, Uri root)
    {
        _app = app;
        _state = state;
        LangSmithEndpoint = root;
        Endpoint = new Uri(root, "v2/sandboxes");
    }

    /// <summary>The full sandbox API base (<c>http://127.0.0.1:PORT/v2/sandboxes</c>) for <c>SandboxClientOptions.Endpoint</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>The server root (<c>http://127.0.0.1:PORT</c>), usable as <c>LANGSMITH_ENDPOINT</c> by the official SDKs.</summary>
    public Uri LangSmithEndpoint { get; }

    /// <summary>The API key clients must send as <c>X-Api-Key</c>.</summary>
    public string ApiKey => _state.ApiKey;

    /// <summary>The data folder holding box and snapshot state.</summary>
    public string DataDirectory => _state.Data.Root;

    /// <summary>The server's services (tests and benchmarks inspect the runtime through them).</summary>
    internal IServiceProvider Services => _app.Services;

    /// <summary>Limits of the create call this machine cannot enforce (empty when all are enforced).</summary>
    public IReadOnlyList<string> UnenforcedLimits => _app.Services.GetRequiredService<HostCapabilities>().UnenforcedLimits;

    /// <summary>Creates a client for this server (endpoint and API key set). The caller owns and disposes it.</summary>
    /// <param name="configure">Optional further client settings.</param>
    /// <returns>A new client.</returns>
    public SandboxClient CreateClient(Action<SandboxClientOptions>? configure = null)
    {
        var options = new SandboxClientOptions { Endpoint = Endpoint, ApiKey = ApiKey };
        configure?.Invoke(options);
        return new SandboxClient(options);
    }

    /// <summary>Starts a server on <c>127.0.0.1</c>.</summary>
    /// <param name="options">Optional settings.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    public static async Task<LocalSandboxServer> StartAsync(LocalSandboxServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LocalSandboxServerOptions();
        bool ownsData = options.DataDirectory is null;
        string dataDir = options.DataDirectory ?? Path.Combine(Path.GetTempPath(), "sandbox-server-" + Guid.NewGuid().ToString("N")[..12]);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (options.LoggerFactory is not null)
        {
            builder.Services.AddSingleton(options.LoggerFactory);
        }
        else
        {
            builder.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        }

        if (options.TimeProvider is not null)
        {
            builder.Services.AddSingleton(options.TimeProvider);
        }

        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port);
            k.Limits.MaxRequestBodySize = null;
        });
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<SandboxServerOptions>();
            string key = o.ApiKey ?? "lsv2_local_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
            return new ServerState(key, new DataDirectory(dataDir), ownsData);
        });
        builder.Services.AddSandboxServer(o =>
        {
            options.Configure?.Invoke(o);
            o.DataDirectory = dataDir;
            o.ApiKey = options.ApiKey ?? o.ApiKey;
        });
        options.ConfigureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseSandboxServer();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var root = new Uri(address.TrimEnd('/') + "/");
        return new LocalSandboxServer(app, app.Services.GetRequiredService<ServerState>(), root);
    }

    /// <summary>Stops the server and every box; deletes the data folder if it was created by <see cref="StartAsync"/>.</summary>
    /// <returns>A task that completes when everything is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.Services.GetRequiredService<BoxManager>().DisposeAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            if (_state.OwnsDataDirectory)
            {
                FileTree.Delete(_state.Data.Root);
            }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"LocalSandboxServer ({Endpoint})";
}
