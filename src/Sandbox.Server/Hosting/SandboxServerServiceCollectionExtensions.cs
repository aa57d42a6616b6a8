using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sandbox.Server;
using Sandbox.Server.Api;
using Sandbox.Server.Networking;
using Sandbox.Server.Runtime;
using Sandbox.Server.Snapshots;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the local sandbox server's services.</summary>
public static class SandboxServerServiceCollectionExtensions
{
    /// <summary>Adds the box runtime, snapshot store and background sweeps used by <c>MapSandboxApi</c>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Optional settings.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddSandboxServer(this IServiceCollection services, Action<SandboxServerOptions>? configure = null)
        => services.AddSandboxServer(configuration: null, configure);

    /// <summary>Adds the sandbox server, binding networking settings from <paramref name="configuration"/> (section <c>Networking</c>).</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">Configuration root, or null.</param>
    /// <param name="configure">Optional settings.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddSandboxServer(this IServiceCollection services, IConfiguration? configuration, Action<SandboxServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var optionsBuilder = services.AddOptions<SandboxServerOptions>();
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<SandboxServerOptions>>().Value);
        services.TryAddSingleton(_ => HostCapabilities.Probe());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<SandboxServerOptions>();
            string apiKey = options.ApiKey is { Length: > 0 } key ? key
                : Environment.GetEnvironmentVariable("SANDBOX_SERVER_API_KEY") is { Length: > 0 } env ? env
                : "lsv2_local_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
            return new ServerState(apiKey, new DataDirectory(options.DataDirectory ?? DefaultDataDirectory()), ownsDataDirectory: false);
        });
        services.TryAddSingleton(sp => sp.GetRequiredService<ServerState>().Data);
        services.TryAddSingleton(sp => new SnapshotStore(sp.GetRequiredService<DataDirectory>(), sp.GetRequiredService<TimeProvider>(),
            RuntimeLogger(sp), sp.GetRequiredService<SandboxServerOptions>()));
        services.TryAddSingleton(sp => new CgroupController(sp.GetRequiredService<HostCapabilities>(), sp.GetRequiredService<SandboxServerOptions>().PidsLimit, sp.GetRequiredService<HostCapabilities>().CgroupRoot));
        services.TryAddSingleton(sp => new BoxTeardown(RuntimeLogger(sp)));
        services.TryAddSingleton(sp => new BoxRegistry(sp.GetRequiredService<DataDirectory>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<BoxTeardown>(), RuntimeLogger(sp)));
        services.TryAddSingleton<BoxDiskProvisioner>();
        services.TryAddSingleton(sp => new BoxStarter(sp.GetRequiredService<DataDirectory>(), sp.GetRequiredService<SnapshotStore>(),
            sp.GetRequiredService<HostCapabilities>(), sp.GetRequiredService<BoxRegistry>(), sp.GetRequiredService<BoxDiskProvisioner>(),
            sp.GetRequiredService<CgroupController>(), sp.GetServices<IBoxStartContributor>(), sp.GetRequiredService<SandboxServerOptions>(),
            sp.GetRequiredService<TimeProvider>(), RuntimeLogger(sp)));
        services.TryAddSingleton(sp => new WarmBoxPool(sp.GetRequiredService<DataDirectory>(), sp.GetRequiredService<SnapshotStore>(),
            sp.GetRequiredService<HostCapabilities>(), sp.GetRequiredService<BoxStarter>(), sp.GetRequiredService<CgroupController>(),
            sp.GetRequiredService<BoxTeardown>(), sp.GetRequiredService<SandboxServerOptions>(), sp.GetRequiredService<TimeProvider>(), RuntimeLogger(sp)));
        services.TryAddSingleton(sp => new BoxManager(sp.GetRequiredService<DataDirectory>(), sp.GetRequiredService<BoxRegistry>(),
            sp.GetRequiredService<BoxStarter>(), sp.GetRequiredService<WarmBoxPool>(), sp.GetRequiredService<SnapshotStore>(),
            sp.GetRequiredService<HostCapabilities>(), sp.GetRequiredService<CgroupController>(), sp.GetRequiredService<BoxTeardown>(),
            sp.GetRequiredService<SandboxServerOptions>(),
            sp.GetRequiredService<TimeProvider>(), RuntimeLogger(sp)));

        // Start-up work (snapshots, stale cgroups, persisted boxes, warm pool) runs before the sweeper and the server start.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BoxRuntimeStartup>());
        services.TryAddSingleton<ApiKeyEndpointFilter>();
        services.TryAddSingleton<ApiErrorEndpointFilter>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BoxSweeper>());
        services.TryAddSingleton<IBoxNetworkDirectory, BoxNetworkDirectory>();
        services.TryAddSingleton<IApiKeyValidator, ApiKeyValidator>();
        services.AddSandboxNetworking(configuration);
        Sandbox.Server.WebConsole.ConsoleServiceCollectionExtensions.AddSandboxConsole(services);
        return services;
    }

    private static ILogger RuntimeLogger(IServiceProvider sp) => sp.GetRequiredService<ILoggerFactory>().CreateLogger("Sandbox.Server");

    /// <summary><c>$XDG_DATA_HOME/sandbox-server</c>, else <c>~/.local/share/sandbox-server</c>.</summary>
    internal static string DefaultDataDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string root = xdg is { Length: > 0 } ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(root, "sandbox-server");
    }
}
