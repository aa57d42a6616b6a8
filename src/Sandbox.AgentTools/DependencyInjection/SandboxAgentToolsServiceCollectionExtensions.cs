using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sandbox.AgentTools;
using Sandbox.Client;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the sandbox agent tools.</summary>
public static class SandboxAgentToolsServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="SandboxLeasePool"/> and a <see cref="SandboxToolFactory"/> that creates per-conversation
    /// tool sets. Uses the <see cref="SandboxClient"/> already registered (e.g. by <c>AddSandboxClient</c>), else one built
    /// from the environment (<c>LANGSMITH_*</c>). Registrations use TryAdd, so earlier ones win.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configureTools">Tool options (limits, workspace, tracing).</param>
    /// <param name="configurePool">Pool options (warm boxes, limits, proxy config).</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddSandboxAgentTools(this IServiceCollection services, Action<SandboxToolOptions>? configureTools = null,
        Action<SandboxPoolOptions>? configurePool = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        if (configureTools is not null)
        {
            services.Configure(configureTools);
        }

        if (configurePool is not null)
        {
            services.Configure(configurePool);
        }

        services.TryAddSingleton(static _ => new SandboxClient(SandboxClientOptions.FromEnvironment()));
        services.TryAddSingleton(static sp => new SandboxLeasePool(
            sp.GetRequiredService<SandboxClient>(),
            sp.GetRequiredService<IOptions<SandboxPoolOptions>>().Value,
            sp.GetService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton(static sp => new SandboxToolFactory(
            sp.GetRequiredService<SandboxLeasePool>(),
            sp.GetRequiredService<IOptions<SandboxToolOptions>>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>()));
        return services;
    }
}
