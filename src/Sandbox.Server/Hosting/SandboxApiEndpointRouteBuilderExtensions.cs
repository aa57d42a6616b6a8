using Sandbox.Server.Api;
using Sandbox.Server.Networking;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the LangSmith-compatible sandbox API of the local server.</summary>
public static class SandboxApiEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Adds WebSockets and service-URL routing to the pipeline and maps the sandbox API (<see cref="MapSandboxApi"/>).
    /// </summary>
    /// <param name="app">The application.</param>
    /// <returns>The same application.</returns>
    public static WebApplication UseSandboxServer(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWebSockets();
        Sandbox.Server.WebConsole.ConsoleServiceCollectionExtensions.UseSandboxConsole(app);
        app.UseSandboxServiceRouting();
        app.MapSandboxApi();
        return app;
    }

    /// <summary>Control-plane prefixes served (0.9 clients use the first, default 0.12 clients the second).</summary>
    internal static readonly string[] ControlPlanePrefixes = ["/v2/sandboxes", "/api/v2/sandboxes"];

    /// <summary>
    /// Maps the control plane at <c>/v2/sandboxes/...</c> and <c>/api/v2/sandboxes/...</c> and the data plane at
    /// <c>/dp/{id}/...</c> (including service-URL, download-link and tunnel endpoints). Requires <c>AddSandboxServer()</c>,
    /// and <c>UseWebSockets()</c> plus <c>UseSandboxServer()</c>'s service routing; <see cref="UseSandboxServer"/> does all of it.
    /// </summary>
    /// <remarks>Every route requires the configured API key in the <c>X-Api-Key</c> header.</remarks>
    /// <param name="endpoints">The application's route builder.</param>
    /// <returns>The same route builder.</returns>
    public static IEndpointRouteBuilder MapSandboxApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var controlGroups = new List<RouteGroupBuilder>();
        foreach (string prefix in ControlPlanePrefixes)
        {
            var group = endpoints.MapGroup(prefix).AddEndpointFilter<ApiErrorEndpointFilter>().AddEndpointFilter<ApiKeyEndpointFilter>();
            BoxEndpoints.Map(group);
            SnapshotEndpoints.Map(group);
            RegistryEndpoints.Map(group);
            controlGroups.Add(group);
        }

        var dataPlane = endpoints.MapGroup("/dp/{id}").AddEndpointFilter<ApiErrorEndpointFilter>().AddEndpointFilter<ApiKeyEndpointFilter>();
        ExecuteEndpoints.Map(dataPlane);
        FileEndpoints.Map(dataPlane);
        LocalExtensionEndpoints.Map(dataPlane);
        foreach (var group in controlGroups)
        {
            group.MapSandboxNetworkingControlPlane();
        }

        dataPlane.MapSandboxTunnel();
        return endpoints;
    }
}
