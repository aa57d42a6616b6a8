using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Sandbox.Server.WebConsole;

/// <summary>Registration and pipeline wiring of the web console.</summary>
internal static class ConsoleServiceCollectionExtensions
{
    /// <summary>Session store (sessions and their CSRF tokens) and the embedded assets.</summary>
    public static IServiceCollection AddSandboxConsole(this IServiceCollection services)
    {
        services.TryAddSingleton<ConsoleSessions>();
        services.TryAddSingleton<ConsoleAssets>();
        return services;
    }

    /// <summary>Session authentication for the API (place after <c>UseWebSockets</c>, before service routing) and the <c>/ui</c> endpoints.</summary>
    public static WebApplication UseSandboxConsole(this WebApplication app)
    {
        app.UseMiddleware<ConsoleAuthMiddleware>();
        ConsoleEndpoints.Map(app);
        return app;
    }
}
