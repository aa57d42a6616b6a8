using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Sandbox.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="SandboxClient"/> in a service collection.</summary>
public static class SandboxClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="SandboxClient"/> (if none is registered yet) built from
    /// <see cref="SandboxClientOptions.FromEnvironment"/> and then <paramref name="configure"/>. The container's
    /// <see cref="ILoggerFactory"/> is used when the options name none.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adjusts the options.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddSandboxClient(this IServiceCollection services, Action<SandboxClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(provider =>
        {
            var options = SandboxClientOptions.FromEnvironment();
            options.LoggerFactory = provider.GetService<ILoggerFactory>();
            configure?.Invoke(options);
            return new SandboxClient(options);
        });
        return services;
    }
}
