
namespace Sandbox.Server;

/// <summary>
/// Seam for features that add routes next to the sandbox API (service URLs, download URLs, tunnels). Implementations are
/// resolved from DI when <c>MapSandboxApi</c> runs; the groups already carry the API-key and error filters.
/// </summary>
internal interface ISandboxApiExtension
{
    /// <summary>Maps extra endpoints. <paramref name="controlPlane"/> holds one group per prefix (<c>/v2/sandboxes</c>, <c>/api/v2/sandboxes</c>).</summary>
    void Map(IEndpointRouteBuilder endpoints, IReadOnlyList<RouteGroupBuilder> controlPlane, RouteGroupBuilder dataPlane);
}
