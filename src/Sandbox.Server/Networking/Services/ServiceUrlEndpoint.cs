using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Sandbox.Protocol;

namespace Sandbox.Server.Networking.Services;

/// <summary>
/// <c>POST {base}/boxes/{name}/service-url</c> (base §6.9, delta §4.5): token mode mints a signed, expiring token
/// for one port; <c>access: restricted|workspace</c> creates a durable login grant (locally: the holder of the server's
/// API key is the workspace user); <c>access: off</c> removes the grant and mints a token.
/// </summary>
internal sealed class ServiceUrlEndpoint(
    IBoxNetworkDirectory boxes,
    ServiceTokenSigner signer,
    ServiceGrantStore grants,
    IOptions<NetworkingOptions> options)
{
    /// <summary>Token audience of service tokens.</summary>
    public const string Audience = "svc";

    private const int DefaultExpiry = 600;
    private const int MaxExpiry = 86400;

    public async Task HandleAsync(HttpContext context, string name)
    {
        ServiceUrlRequest? body;
        try
        {
            body = await context.Request.ReadFromJsonAsync<ServiceUrlRequest>(SandboxJson.Options, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await Results.Json(ErrorResponse.Validation("body", "Invalid JSON body: " + ex.Message, "json_invalid"), SandboxJson.Options, statusCode: 422).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var result = await MintAsync(context, name, body ?? new ServiceUrlRequest()).ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    }

    private async Task<IResult> MintAsync(HttpContext context, string name, ServiceUrlRequest body)
    {
        if (body.Port is < 1 or > 65535)
        {
            return Invalid("port", "port must be an integer between 1 and 65535.");
        }

        var access = body.Access;
        if (access is not (null or "restricted" or "workspace" or "off"))
        {
            return Invalid("access", "access must be 'restricted', 'workspace' or 'off'.");
        }

        var loginMode = access is "restricted" or "workspace";
        if (loginMode && body.ExpiresInSeconds is not null)
        {
            return Invalid("expires_in_seconds", "expires_in_seconds cannot be combined with access (login URLs do not expire).");
        }

        var expiresIn = body.ExpiresInSeconds ?? DefaultExpiry;
        if (expiresIn is < 1 or > MaxExpiry)
        {
            return Invalid("expires_in_seconds", "expires_in_seconds must be between 1 and 86400.");
        }

        if (EmbedOrigins.TryNormalize(body.EmbedOrigins, out var origins) is { } originError)
        {
            return Invalid("embed_origins", originError);
        }

        var box = await boxes.FindAsync(name, context.RequestAborted).ConfigureAwait(false);
        if (box is null)
        {
            return Results.Json(ErrorResponse.Structured("NotFound", $"Sandbox '{name}' not found."), SandboxJson.Options, statusCode: 404);
        }

        var opts = options.Value;
        var serviceBase = ServiceBase(context.Request, box.Id, body.Port, pathForm: !opts.SubdomainServiceUrls);
        var browserBase = ServiceBase(context.Request, box.Id, body.Port, pathForm: opts.PathBrowserUrls);
        if (loginMode)
        {
            grants.Set(box.Id, body.Port, new ServiceGrant(access!, origins, signer.Now));
            return Results.Json(
                new ServiceUrlInfo
                {
                    ServiceUrl = serviceBase,
                    BrowserUrl = browserBase + "_svc/login",
                    Access = access,
                    EmbedOrigins = origins.Count > 0 ? origins : null,
                },
                SandboxJson.Options);
        }

        if (access == "off")
        {
            grants.Remove(box.Id, body.Port);
        }
        else if (grants.Find(box.Id, body.Port) is not null)
        {
            return Results.Json(
                ErrorResponse.Structured("Conflict", $"Port {body.Port} of sandbox '{name}' is shared with a LangSmith login grant; token URLs are refused until the grant is removed (access: \"off\")."),
                SandboxJson.Options,
                statusCode: 409);
        }

        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(signer.Now.ToUnixTimeSeconds() + expiresIn);
        var claims = new JsonObject
        {
            ["aud"] = Audience,
            ["sub"] = box.Id,
            ["port"] = body.Port,
            ["exp"] = expiresAt.ToUnixTimeSeconds(),
        };
        if (origins.Count > 0)
        {
            claims["eo"] = new JsonArray([.. origins.Select(o => (JsonNode)o)]);
        }

        var token = signer.Sign(claims);
        return Results.Json(
            new ServiceUrlInfo
            {
                ServiceUrl = serviceBase,
                BrowserUrl = browserBase + "_svc/auth?token=" + token,
                Token = token,
                ExpiresAt = expiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                EmbedUrl = browserBase + "_svc/embed#token=" + token,
                EmbedOrigins = origins.Count > 0 ? origins : null,
            },
            SandboxJson.Options);
    }

    /// <summary>The service's base URL, ending with <c>/</c>, in the subdomain or the path form.</summary>
    public string ServiceBase(HttpRequest request, string boxId, int port, bool pathForm)
    {
        var label = ServiceAddress.Label(boxId, port);
        var serverPort = request.Host.Port is { } p ? ":" + p.ToString(CultureInfo.InvariantCulture) : "";
        return pathForm
            ? $"{request.Scheme}://{request.Host.Value}{ServiceAddress.PathPrefix}{label}/"
            : $"{request.Scheme}://{label}.{options.Value.ServiceHostSuffix}{serverPort}/";
    }

    private static IResult Invalid(string field, string message)
        => Results.Json(ErrorResponse.Validation(field, message), SandboxJson.Options, statusCode: 422);
}
