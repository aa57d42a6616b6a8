using Sandbox.Protocol;

namespace Sandbox.Server.WebConsole;

/// <summary>
/// Maps a console session cookie onto the public API's authentication. For the API paths (<c>/v2/sandboxes</c>,
/// <c>/api/v2/sandboxes</c>, <c>/dp</c>) a request without <c>X-Api-Key</c> but with a valid session is admitted when
/// it comes from the console's own origin (<c>Sec-Fetch-Site</c>) and, if it changes state (any method but GET/HEAD,
/// and every WebSocket upgrade), carries the session's CSRF token (<see cref="ConsoleSessions.CsrfToken"/>): header <c>X-CSRF-TOKEN</c>, or for WebSockets the
/// query parameter <c>csrf_token</c> plus a same-origin <c>Origin</c>. Everything else falls through to the API-key
/// check unchanged, so the cookie grants nothing the key does not.
/// </summary>
internal sealed class ConsoleAuthMiddleware(RequestDelegate next, ConsoleSessions sessions)
{
    public const string CsrfHeader = "X-CSRF-TOKEN";
    public const string CsrfQuery = "csrf_token";

    /// <summary>Applied to service pages opened by a browser that holds a console session: an opaque origin, so a box's page served under the console's origin cannot act as the console.</summary>
    private const string ServiceSandboxPolicy = "sandbox allow-scripts allow-forms allow-popups allow-popups-to-escape-sandbox allow-modals allow-downloads";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        string path = request.Path.Value ?? "";
        if (path.StartsWith("/svc/", StringComparison.Ordinal))
        {
            if (request.Cookies.ContainsKey(ConsoleSessions.MarkerCookieName))
            {
                context.Response.OnStarting(() =>
                {
                    context.Response.Headers.Append("Content-Security-Policy", ServiceSandboxPolicy);
                    return Task.CompletedTask;
                });
            }

            await next(context).ConfigureAwait(false);
            return;
        }

        if (request.Headers.ContainsKey("X-Api-Key") || sessions.Validate(request.Cookies[ConsoleSessions.CookieName]) is not { } sessionId)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        context.User = ConsoleSessions.Principal(sessionId);
        if (!IsApiPath(path))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        string? fetchSite = request.Headers["Sec-Fetch-Site"];
        if (fetchSite is { Length: > 0 } && fetchSite != "same-origin")
        {
            await RefuseAsync(context, "CrossSiteRequest", "The console session is only accepted from the console's own pages").ConfigureAwait(false);
            return;
        }

        bool isWebSocket = context.WebSockets.IsWebSocketRequest;
        bool changesState = isWebSocket || !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method));
        if (changesState)
        {
            if (isWebSocket)
            {
                if (!SameOrigin(request))
                {
                    await RefuseAsync(context, "CrossSiteRequest", "WebSocket origin does not match the console").ConfigureAwait(false);
                    return;
                }

            }

            string? token = isWebSocket ? request.Query[CsrfQuery] : request.Headers[CsrfHeader];
            if (!sessions.ValidateCsrf(sessionId, token))
            {
                await RefuseAsync(context, "CsrfTokenInvalid", "Missing or invalid CSRF token: reload the console").ConfigureAwait(false);
                return;
            }
        }

        ConsoleSessions.MarkAuthenticated(context);
        await next(context).ConfigureAwait(false);
    }

    internal static bool IsApiPath(string path) =>
        path.StartsWith("/dp/", StringComparison.Ordinal)
        || Array.Exists(SandboxApiEndpointRouteBuilderExtensions.ControlPlanePrefixes, p => path == p || path.StartsWith(p + "/", StringComparison.Ordinal));

    /// <summary>The <c>Origin</c> header names this server as the browser reached it (scheme, host and port).</summary>
    internal static bool SameOrigin(HttpRequest request)
    {
        string? origin = request.Headers.Origin;
        return !string.IsNullOrEmpty(origin)
            && string.Equals(origin, $"{request.Scheme}://{request.Host.Value}", StringComparison.OrdinalIgnoreCase);
    }

    private static Task RefuseAsync(HttpContext context, string type, string message) =>
        Results.Json(ErrorResponse.Structured(type, message), SandboxJson.Options, statusCode: 403).ExecuteAsync(context);
}
