using System.Net;
using Sandbox.Protocol;

namespace Sandbox.Server.Networking.Services;

/// <summary>Errors of the service router: an HTML page for browsers, the protocol's JSON error body otherwise.</summary>
internal static class ServiceErrorPages
{
    public static Task WriteAsync(HttpContext context, int status, string error, string title, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.Headers.CacheControl = "no-store";
        if (WantsHtml(context.Request))
        {
            response.ContentType = "text/html; charset=utf-8";
            var html = $$"""
                <!doctype html>
                <html lang="en"><head><meta charset="utf-8"><title>{{WebUtility.HtmlEncode(title)}}</title>
                <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;color:#222}h1{font-size:1.4rem}code{background:#eee;padding:0 .2rem}</style>
                </head><body><h1>{{WebUtility.HtmlEncode(title)}}</h1><p>{{WebUtility.HtmlEncode(message)}}</p>
                <p><small>HTTP {{status}} · <code>{{WebUtility.HtmlEncode(error)}}</code> · local sandbox server</small></p></body></html>
                """;
            return response.WriteAsync(html);
        }

        return response.WriteAsJsonAsync(ErrorResponse.Structured(error, message), SandboxJson.Options);
    }

    public static bool WantsHtml(HttpRequest request)
        => request.Headers.Accept.Any(a => a is not null && a.Contains("text/html", StringComparison.OrdinalIgnoreCase));
}
