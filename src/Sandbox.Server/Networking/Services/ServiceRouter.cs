using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Sandbox.Server.Networking.Services;

/// <summary>
/// Serves service URLs: requests whose host is <c>{box}--{port}.localhost</c> (subdomain form, like the hosted
/// service) or whose path starts with <c>/svc/{box}--{port}/</c> (path form). Handles the browser login
/// (<c>/_svc/auth?token=</c> sets an HttpOnly cookie scoped to that service and redirects), the embed page, the
/// API-key login of login grants, authorization (header <c>X-Langsmith-Sandbox-Service-Token</c> or cookie), then
/// proxies HTTP and WebSocket traffic to the port inside the box.
/// </summary>
internal sealed partial class ServiceRouter(
    IBoxNetworkDirectory boxes,
    ServiceTokenSigner signer,
    ServiceGrantStore grants,
    ServiceProxy proxy,
    IApiKeyValidator apiKeys,
    IOptions<NetworkingOptions> options,
    ILogger<ServiceRouter> logger)
{
    /// <summary>Token audience of login sessions.</summary>
    public const string LoginAudience = "svc-login";

    /// <summary>Finds the service address of a request, if it is service traffic.</summary>
    public bool TryMatch(HttpRequest request, out ServiceAddress address, out string path)
    {
        path = request.Path.Value ?? "/";
        if (ServiceAddress.TryParseHost(request.Host.Host, options.Value.ServiceHostSuffix, out address))
        {
            return true;
        }

        return ServiceAddress.TryParsePath(path, out address, out path);
    }

    public async Task HandleAsync(HttpContext context, ServiceAddress address, string path)
    {
        var box = await boxes.FindAsync(address.BoxRef, context.RequestAborted).ConfigureAwait(false);
        if (box is null)
        {
            await ServiceErrorPages.WriteAsync(context, 404, "NotFound", "Sandbox not found", $"There is no sandbox '{address.BoxRef}' on this server.").ConfigureAwait(false);
            return;
        }

        var cookiePath = address.PathBase.Length > 0 ? address.PathBase : "/";
        switch (path)
        {
            case "/_svc/auth":
                await AuthenticateAsync(context, box, address, cookiePath).ConfigureAwait(false);
                return;
            case "/_svc/embed":
                await WriteEmbedPageAsync(context, address).ConfigureAwait(false);
                return;
            case "/_svc/login":
                await LoginAsync(context, box, address, cookiePath).ConfigureAwait(false);
                return;
        }

        var grant = grants.Find(box.Id, address.Port);
        var check = Authorize(context.Request, box.Id, address.Port, grant);
        if (!check.Allowed)
        {
            if (check.Failure == TokenFailure.Missing && grant is not null && ServiceErrorPages.WantsHtml(context.Request))
            {
                context.Response.Redirect(address.PathBase + "/_svc/login?redirect=" + Uri.EscapeDataString(path + context.Request.QueryString));
                return;
            }

            LogRefused(logger, box.Id, address.Port, check.Failure.ToString());
            await WriteAuthErrorAsync(context, check.Failure, grant is not null).ConfigureAwait(false);
            return;
        }

        if (box.NetworkNamespacePath is null)
        {
            box = await boxes.EnsureRunningAsync(box.Id, context.RequestAborted).ConfigureAwait(false) ?? box;
        }

        if (box.NetworkNamespacePath is not { } ns)
        {
            await ServiceErrorPages.WriteAsync(context, 503, "ServiceUnavailable", "Sandbox not running", $"Sandbox {box.Id} is not running.").ConfigureAwait(false);
            return;
        }

        boxes.MarkActive(box.Id);
        await proxy.ForwardAsync(context, ns, box.Id, address.Port, address.PathBase, path, check.EmbedOrigins ?? grant?.EmbedOrigins ?? []).ConfigureAwait(false);
    }

    private (bool Allowed, TokenFailure Failure, IReadOnlyList<string>? EmbedOrigins) Authorize(HttpRequest request, string boxId, int port, ServiceGrant? grant)
    {
        var token = request.Headers[ServiceProxy.TokenHeader].ToString();
        if (string.IsNullOrEmpty(token))
        {
            token = request.Cookies[ServiceCookies.TokenCookie];
        }

        var failure = TokenFailure.Missing;
        if (!string.IsNullOrEmpty(token))
        {
            var check = CheckServiceToken(token, boxId, port);
            if (check.IsValid)
            {
                var origins = check.Claims.TryGetProperty("eo", out var eo)
                    ? eo.EnumerateArray().Select(e => e.GetString()!).ToList()
                    : null;
                return (true, TokenFailure.None, origins);
            }

            failure = check.Failure;
        }

        if (grant is not null)
        {
            if (apiKeys.IsValid(request.Headers["X-Api-Key"].ToString()))
            {
                return (true, TokenFailure.None, null);
            }

            var login = signer.Verify(request.Cookies[ServiceCookies.LoginCookie], LoginAudience);
            if (login.IsValid && login.Subject == boxId && login.GetInt("port") == port)
            {
                return (true, TokenFailure.None, null);
            }
        }

        return (false, failure, null);
    }

    private TokenCheck CheckServiceToken(string? token, string boxId, int port)
    {
        var check = signer.Verify(token, ServiceUrlEndpoint.Audience);
        if (check.IsValid && (check.Subject != boxId || check.GetInt("port") != port))
        {
            return TokenCheck.Failed(TokenFailure.WrongTarget);
        }

        return check;
    }

    private async Task AuthenticateAsync(HttpContext context, BoxNetworkTarget box, ServiceAddress address, string cookiePath)
    {
        var token = context.Request.Query["token"].ToString();
        var check = CheckServiceToken(token, box.Id, address.Port);
        if (!check.IsValid)
        {
            await WriteAuthErrorAsync(context, check.Failure, login: false).ConfigureAwait(false);
            return;
        }

        context.Response.Cookies.Append(ServiceCookies.TokenCookie, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = context.Request.IsHttps,
            Path = cookiePath,
            Expires = check.GetLong("exp") is { } exp ? DateTimeOffset.FromUnixTimeSeconds(exp) : null,
        });
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Redirect(address.PathBase + SafeRedirect(context.Request.Query["redirect"].ToString()));
    }

    private async Task LoginAsync(HttpContext context, BoxNetworkTarget box, ServiceAddress address, string cookiePath)
    {
        var redirect = SafeRedirect(context.Request.Query["redirect"].ToString());
        if (grants.Find(box.Id, address.Port) is null)
        {
            await ServiceErrorPages.WriteAsync(context, 404, "NotFound", "Not shared", $"Port {address.Port} of sandbox {box.Id} is not shared with a login URL.").ConfigureAwait(false);
            return;
        }

        string? error = null;
        if (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            redirect = SafeRedirect(form["redirect"].ToString());
            if (apiKeys.IsValid(form["api_key"].ToString()))
            {
                var expires = signer.Now + options.Value.LoginSessionLifetime;
                var session = signer.Sign(new JsonObject
                {
                    ["aud"] = LoginAudience,
                    ["sub"] = box.Id,
                    ["port"] = address.Port,
                    ["exp"] = expires.ToUnixTimeSeconds(),
                });
                context.Response.Cookies.Append(ServiceCookies.LoginCookie, session, new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Lax,
                    Secure = context.Request.IsHttps,
                    Path = cookiePath,
                    Expires = expires,
                });
                context.Response.Redirect(address.PathBase + redirect);
                return;
            }

            error = "That is not this server's API key.";
            context.Response.StatusCode = 401;
        }

        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync($$"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
            <body style="font-family:system-ui,sans-serif;max-width:30rem;margin:4rem auto">
            <h1>Sign in to the sandbox service</h1>
            <p>This service is shared with workspace members. On this local server the workspace user is whoever holds the server's API key.</p>
            {{(error is null ? "" : "<p role=\"alert\">" + WebUtility.HtmlEncode(error) + "</p>")}}
            <form method="post"><input type="hidden" name="redirect" value="{{WebUtility.HtmlEncode(redirect)}}">
            <label>API key <input type="password" name="api_key" autocomplete="off"></label> <button type="submit">Sign in</button></form>
            </body></html>
            """, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task WriteEmbedPageAsync(HttpContext context, ServiceAddress address)
    {
        // The token travels in the fragment; the page hands it to /_svc/auth, which sets the cookie and redirects.
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var auth = address.PathBase + "/_svc/auth";
        return context.Response.WriteAsync($$"""
            <!doctype html><html><head><meta charset="utf-8"><title>Loading…</title></head><body><script>
            const p = new URLSearchParams(location.hash.slice(1));
            const q = new URLSearchParams({ token: p.get("token") || "", redirect: p.get("redirect") || "/" });
            location.replace("{{auth}}?" + q.toString());
            </script></body></html>
            """, context.RequestAborted);
    }

    private static Task WriteAuthErrorAsync(HttpContext context, TokenFailure failure, bool login) => failure switch
    {
        TokenFailure.Expired => ServiceErrorPages.WriteAsync(context, 401, "TokenExpired", "Link expired", "This service link has expired. Ask for a new service URL (POST /boxes/{name}/service-url)."),
        TokenFailure.WrongTarget => ServiceErrorPages.WriteAsync(context, 403, "Forbidden", "Wrong service", "This token was issued for another sandbox or port."),
        TokenFailure.Invalid => ServiceErrorPages.WriteAsync(context, 401, "InvalidToken", "Authentication required", "The service token is not valid on this server."),
        _ => ServiceErrorPages.WriteAsync(context, 401, "Unauthorized", "Authentication required",
            login
                ? "Sign in with the server's API key at /_svc/login, or send the X-Api-Key header."
                : "Send the X-Langsmith-Sandbox-Service-Token header, or open the browser_url of a service URL."),
    };

    /// <summary>
    /// A same-origin path to send the browser to after a login, else "/". Only visible ASCII is accepted: browsers drop
    /// TAB, CR and LF inside URLs (so "/\t/evil.example" would become the other-origin "//evil.example"), and a
    /// control character or non-ASCII text cannot go into a Location header at all.
    /// </summary>
    internal static string SafeRedirect(string? redirect)
    {
        if (string.IsNullOrEmpty(redirect) || redirect.Length > 2048 || redirect[0] != '/'
            || redirect.StartsWith("//", StringComparison.Ordinal) || redirect.Contains('\\', StringComparison.Ordinal))
        {
            return "/";
        }

        foreach (char c in redirect)
        {
            if (c is <= ' ' or >= (char)0x7F)
            {
                return "/";
            }
        }

        return redirect;
    }

    [LoggerMessage(EventId = 5301, Level = LogLevel.Information, Message = "Service request to box {BoxId} port {Port} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string boxId, int port, string reason);
}
