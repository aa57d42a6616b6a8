using Microsoft.Extensions.DependencyInjection.Extensions;
using Sandbox.Server.Networking.Downloads;
using Sandbox.Server.Networking.Egress;
using Sandbox.Server.Networking.Services;
using Sandbox.Server.Tunnels;

namespace Sandbox.Server.Networking;

/// <summary>Registers service URLs, download links, tunnels and the egress proxy.</summary>
internal static class NetworkingServiceCollectionExtensions
{
    /// <summary>
    /// Adds the networking features. The host must also register <see cref="IBoxNetworkDirectory"/> and
    /// <see cref="IApiKeyValidator"/> (the server core's adapters).
    /// </summary>
    public static IServiceCollection AddSandboxNetworking(this IServiceCollection services, IConfiguration? configuration = null)
    {
        var options = services.AddOptions<NetworkingOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(NetworkingOptions.SectionName));
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<NetworkNamespaceSocketFactory>();
        services.TryAddSingleton<ServiceTokenSigner>();
        services.TryAddSingleton<ServiceGrantStore>();
        services.AddHttpForwarder();
        services.TryAddSingleton<ServiceProxy>();
        services.TryAddSingleton<ServiceUrlEndpoint>();
        services.TryAddSingleton<ServiceRouter>();
        services.TryAddSingleton<DownloadLinkEndpoints>();
        services.TryAddSingleton<TunnelEndpoint>();
        services.TryAddSingleton<EgressSecrets>();
        services.TryAddSingleton<EgressCertificateAuthority>();
        services.TryAddSingleton<EgressUpstreamDialer>();
        services.TryAddSingleton<EgressProxy>();
        services.TryAddSingleton<EgressListeners>();
        services.TryAddSingleton<EgressBoxContributor>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runtime.IBoxStartContributor, EgressBoxContributor>(sp => sp.GetRequiredService<EgressBoxContributor>()));
        return services;
    }
}
