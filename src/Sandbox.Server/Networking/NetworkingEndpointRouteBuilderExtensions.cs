using Sandbox.Server.Networking.Downloads;
using Sandbox.Server.Networking.Services;
using Sandbox.Server.Tunnels;

namespace Sandbox.Server.Networking;

/// <summary>Maps the networking endpoints into the server's route groups.</summary>
internal static class NetworkingEndpointRouteBuilderExtensions
{
    /// <summary>Service-URL and download-link traffic; place before API-key authentication.</summary>
    public static IApplicationBuilder UseSandboxServiceRouting(this IApplicationBuilder app)
        => app.UseMiddleware<ServiceRoutingMiddleware>();

    /// <summary>Maps <c>POST /boxes/{name}/service-url</c> and <c>POST /boxes/{name}/download-url</c> into a control-plane group (<c>{base}</c>).</summary>
    public static IEndpointRouteBuilder MapSandboxNetworkingControlPlane(this IEndpointRouteBuilder controlPlane)
    {
        controlPlane.MapPost("/boxes/{name}/service-url", (HttpContext context, string name, ServiceUrlEndpoint endpoint) => endpoint.HandleAsync(context, name));
        controlPlane.MapPost("/boxes/{name}/download-url", (HttpContext context, string name, DownloadLinkEndpoints endpoint) => endpoint.MintAsync(context, name));
        return controlPlane;
    }

    /// <summary>Maps <c>GET /tunnel</c> (WebSocket + yamux) into the data-plane group <c>/dp/{id}</c>.</summary>
    public static IEndpointRouteBuilder MapSandboxTunnel(this IEndpointRouteBuilder dataPlane)
    {
        dataPlane.Map("/tunnel", (HttpContext context, string id, TunnelEndpoint endpoint) => endpoint.HandleAsync(context, id));
        return dataPlane;
    }
}
