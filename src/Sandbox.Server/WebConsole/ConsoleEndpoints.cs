using System.Text.Json.Serialization;
using Sandbox.Protocol;
using Sandbox.Server.Networking;

namespace Sandbox.Server.WebConsole;

/// <summary>
/// The web console at <c>/ui</c>: static pages, and the session endpoints (<c>GET/POST/DELETE /ui/session</c>) that
/// sign in with the server's API key and hand the page its CSRF token. Everything else the pages do goes through the
/// public API with the session cookie (see <see cref="ConsoleAuthMiddleware"/>).
/// </summary>
internal static class ConsoleEndpoints
{
    public const string Root = "/ui";

    private const string PagePolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

    private static readonly Dictionary<string, string> Pages = new(StringComparer.Ordinal)
    {
        [""] = "index.html",
        ["sandbox"] = "sandbox.html",
        ["snapshots"] = "snapshots.html",
    };

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var ui = endpoints.MapGroup(Root);
        ui.MapGet("/", (HttpContext context, ConsoleAssets assets) => PageAsync(context, assets, ""));
        ui.MapGet("/sandbox", (HttpContext context, ConsoleAssets assets) => PageAsync(context, assets, "sandbox"));
        ui.MapGet("/snapshots", (HttpContext context, ConsoleAssets assets) => PageAsync(context, assets, "snapshots"));
        ui.MapGet("/login", (HttpContext context, ConsoleAssets assets) => ServeAsync(context, assets, "login.html"));
        ui.MapGet("/assets/{*path}", (HttpContext context, ConsoleAssets assets, string path) => ServeAsync(context, assets, path));
        ui.MapGet("/session", GetSession);
        ui.MapPost("/session", SignInAsync);
        ui.MapDelete("/session", SignOut);
    }

    private static Task PageAsync(HttpContext context, ConsoleAssets assets, string page)
    {
        if (!IsSignedIn(context))
        {
            context.Response.Redirect(Root + "/login");
            return Task.CompletedTask;
        }

        return ServeAsync(context, assets, Pages[page]);
    }

    private static async Task ServeAsync(HttpContext context, ConsoleAssets assets, string path)
    {
        SecurityHeaders(context.Response);
        if (assets.Find(path) is not { } asset)
        {
            context.Response.StatusCode = 404;
            return;
        }

        context.Response.Headers.ETag = asset.ETag;
        context.Response.Headers.CacheControl = "no-cache";
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            context.Response.StatusCode = 304;
            return;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(asset.Content, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static IResult GetSession(HttpContext context, ConsoleSessions sessions, ConsoleAssets assets)
    {
        SecurityHeaders(context.Response);
        context.Response.Headers.CacheControl = "no-store";
        return Results.Json(new SessionInfo
        {
            SignedIn = IsSignedIn(context),
            CsrfToken = sessions.CsrfToken(SessionId(context)),
            ApiBase = SandboxApiEndpointRouteBuilderExtensions.ControlPlanePrefixes[0],
            Terminal = assets.HasTerminal,
        }, SandboxJson.Options);
    }

    private static async Task<IResult> SignInAsync(HttpContext context, ConsoleSessions sessions, IApiKeyValidator keys)
    {
        SecurityHeaders(context.Response);
        context.Response.Headers.CacheControl = "no-store";
        if (!CsrfValid(context, sessions))
        {
            return Results.Json(ErrorResponse.Structured("CsrfTokenInvalid", "Missing or invalid CSRF token: reload the page"), SandboxJson.Options, statusCode: 403);
        }

        string? key = null;
        if (context.Request.HasJsonContentType())
        {
            try
            {
                var body = await context.Request.ReadFromJsonAsync<SignInRequest>(SandboxJson.Options, context.RequestAborted).ConfigureAwait(false);
                key = body?.ApiKey;
            }
            catch (System.Text.Json.JsonException)
            {
                key = null;
            }
        }

        if (!keys.IsValid(key))
        {
            // Slows down guessing; the key itself is never logged or echoed.
            await Task.Delay(TimeSpan.FromMilliseconds(300), context.RequestAborted).ConfigureAwait(false);
            return Results.Json(ErrorResponse.Structured("Unauthorized", "Invalid API key"), SandboxJson.Options, statusCode: 401);
        }

        sessions.Remove(context.Request.Cookies[ConsoleSessions.CookieName]);
        var (value, expiresAt) = sessions.Create();
        foreach (string path in ConsoleSessions.CookiePaths)
        {
            context.Response.Cookies.Append(ConsoleSessions.CookieName, value, Cookie(context, path, expiresAt));
        }

        context.Response.Cookies.Append(ConsoleSessions.MarkerCookieName, "1", Cookie(context, "/svc", expiresAt));
        // The CSRF token of the new session (tokens are bound to the session).
        return Results.Json(new SessionInfo { SignedIn = true, CsrfToken = sessions.CsrfToken(sessions.Validate(value)), ApiBase = SandboxApiEndpointRouteBuilderExtensions.ControlPlanePrefixes[0] }, SandboxJson.Options);
    }

    private static IResult SignOut(HttpContext context, ConsoleSessions sessions)
    {
        SecurityHeaders(context.Response);
        context.Response.Headers.CacheControl = "no-store";
        if (!CsrfValid(context, sessions))
        {
            return Results.Json(ErrorResponse.Structured("CsrfTokenInvalid", "Missing or invalid CSRF token: reload the page"), SandboxJson.Options, statusCode: 403);
        }

        sessions.Remove(context.Request.Cookies[ConsoleSessions.CookieName]);
        foreach (string path in ConsoleSessions.CookiePaths)
        {
            context.Response.Cookies.Delete(ConsoleSessions.CookieName, Cookie(context, path, null));
        }

        context.Response.Cookies.Delete(ConsoleSessions.MarkerCookieName, Cookie(context, "/svc", null));
        return Results.NoContent();
    }

    /// <summary>Same-origin (when the browser says) and the token of the current session, or the anonymous token when signed out.</summary>
    private static bool CsrfValid(HttpContext context, ConsoleSessions sessions)
    {
        string? fetchSite = context.Request.Headers["Sec-Fetch-Site"];
        return (string.IsNullOrEmpty(fetchSite) || fetchSite == "same-origin")
            && sessions.ValidateCsrf(SessionId(context), context.Request.Headers[ConsoleAuthMiddleware.CsrfHeader]);
    }

    private static string? SessionId(HttpContext context) =>
        IsSignedIn(context) ? context.User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value : null;

    private static bool IsSignedIn(HttpContext context) => context.User.Identity is { IsAuthenticated: true, AuthenticationType: "SandboxConsole" };

    private static CookieOptions Cookie(HttpContext context, string path, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = path,
        Expires = expires,
        IsEssential = true,
    };

    private static void SecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = PagePolicy;
        response.Headers.XFrameOptions = "DENY";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "same-origin";
        response.Headers["Cross-Origin-Opener-Policy"] = "same-origin";
    }

    internal sealed record SignInRequest
    {
        public string? ApiKey { get; init; }
    }

    internal sealed record SessionInfo
    {
        public bool SignedIn { get; init; }

        public string? CsrfToken { get; init; }

        public string? ApiBase { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
        public bool Terminal { get; init; }
    }
}
