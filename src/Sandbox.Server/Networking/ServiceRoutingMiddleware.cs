using Sandbox.Server.Networking.Downloads;
using Sandbox.Server.Networking.Services;

namespace Sandbox.Server.Networking;

/// <summary>
/// Diverts service-URL traffic (<c>{box}--{port}.localhost</c> hosts and <c>/svc/…</c> paths) and download links
/// (<c>/dl/{token}</c>) before API-key authentication: these requests carry their own signed tokens.
/// </summary>
internal sealed class ServiceRoutingMiddleware(RequestDelegate next, ServiceRouter router, DownloadLinkEndpoints downloads)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (router.TryMatch(context.Request, out var address, out var path))
        {
            return router.HandleAsync(context, address, path);
        }

        var requestPath = context.Request.Path.Value ?? "";
        if (requestPath.StartsWith(DownloadLinkEndpoints.PathPrefix, StringComparison.Ordinal))
        {
            return downloads.ServeAsync(context, requestPath[DownloadLinkEndpoints.PathPrefix.Length..]);
        }

        return next(context);
    }
}
