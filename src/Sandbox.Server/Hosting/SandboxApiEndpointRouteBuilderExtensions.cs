using Sandbox.Server;
using Sandbox.Server.Api;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the LangSmith-compatible sandbox API of the local server.</summary>
public static class SandboxApiEndpointRouteBuilderExtensions
{
    /// <summary>Control-plane prefixes served (0.9 clients use the first, default 0.12 clients the second).</summary>
    internal static readonly string[] ControlPlanePrefixes = ["/v2/sandboxes", "/api/v2/sandboxes"];

    /// <summary>
    /// Maps the control plane at <c>/v2/sandboxes/...</c> and <c>/api/v2/sandboxes/...</c> and the data plane at
    /// <c>/dp/{id}/...</c>. Requires <c>AddSandboxServer()</c> and <c>UseWebSockets()</c>.
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
            controlGroups.Add(group);
        }

        var dataPlane = endpoints.MapGroup("/dp/{id}").AddEndpointFilter<ApiErrorEndpointFilter>().AddEndpointFilter<ApiKeyEndpointFilter>();
        ExecuteEndpoints.Map(dataPlane);
        FileEndpoints.Map(dataPlane);
        foreach (var extension in endpoints.ServiceProvider.GetServices<ISandboxApiExtension>())
        {
            extension.Map(endpoints, controlGroups, dataPlane);
        }

        return endpoints;
    }
}
