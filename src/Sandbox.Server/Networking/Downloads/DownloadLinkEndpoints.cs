using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;
using Sandbox.Protocol;
using Sandbox.Server.Networking.Services;

namespace Sandbox.Server.Networking.Downloads;

/// <summary>
/// Download links (base §6.10, §8.8): <c>POST {base}/boxes/{name}/download-url</c> mints a token pinned to the box and
/// the exact path (optional expiry; none = never expires), and <c>GET|HEAD /dl/{token}</c> serves the file without
/// any other credential, with Range support and the content type / disposition chosen at mint time.
/// </summary>
internal sealed class DownloadLinkEndpoints(IBoxNetworkDirectory boxes, ServiceTokenSigner signer)
{
    /// <summary>Token audience of download tokens.</summary>
    public const string Audience = "dl";

    /// <summary>Path prefix of download links.</summary>
    public const string PathPrefix = "/dl/";

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public async Task MintAsync(HttpContext context, string name)
    {
        DownloadUrlRequest? body;
        try
        {
            body = await context.Request.ReadFromJsonAsync<DownloadUrlRequest>(SandboxJson.Options, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            await Invalid("body", "Invalid JSON body: " + ex.Message).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        var result = await MintAsync(context, name, body ?? new DownloadUrlRequest()).ConfigureAwait(false);
        await result.ExecuteAsync(context).ConfigureAwait(false);
    }

    /// <summary>Serves <c>GET|HEAD /dl/{token}</c>.</summary>
    public async Task ServeAsync(HttpContext context, string token)
    {
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET, HEAD";
            await ServiceErrorPages.WriteAsync(context, 405, "MethodNotAllowed", "Method not allowed", "Download links support GET and HEAD.").ConfigureAwait(false);
            return;
        }

        var check = signer.Verify(token, Audience);
        if (!check.IsValid)
        {
            var expired = check.Failure == TokenFailure.Expired;
            await ServiceErrorPages.WriteAsync(context, expired ? 410 : 401, expired ? "LinkExpired" : "InvalidToken",
                expired ? "Link expired" : "Invalid link",
                expired ? "This download link has expired. Ask for a new one (POST /boxes/{name}/download-url)." : "This download link is not valid on this server.").ConfigureAwait(false);
            return;
        }

        var path = check.GetString("path")!;
        var box = await boxes.FindAsync(check.Subject, context.RequestAborted).ConfigureAwait(false);
        if (box is null || box.Id != check.Subject)
        {
            await ServiceErrorPages.WriteAsync(context, 404, "NotFound", "Not found", "The sandbox of this link no longer exists.").ConfigureAwait(false);
            return;
        }

        var file = await boxes.OpenFileAsync(box.Id, path, context.RequestAborted).ConfigureAwait(false);
        if (file is null && box.NetworkNamespacePath is null)
        {
            await boxes.EnsureRunningAsync(box.Id, context.RequestAborted).ConfigureAwait(false);
            file = await boxes.OpenFileAsync(box.Id, path, context.RequestAborted).ConfigureAwait(false);
        }

        if (file is null)
        {
            await ServiceErrorPages.WriteAsync(context, 404, "NotFound", "Not found", $"File not found: {path}").ConfigureAwait(false);
            return;
        }

        boxes.MarkActive(box.Id);
        var contentType = check.GetString("ct")
            ?? (ContentTypes.TryGetContentType(path, out var guessed) ? guessed : "application/octet-stream");
        var disposition = new ContentDispositionHeaderValue(check.GetString("cd") ?? "attachment");
        disposition.SetHttpFileName(Path.GetFileName(path));
        context.Response.Headers.ContentDisposition = disposition.ToString();
        context.Response.Headers.CacheControl = "private, no-cache";
        // Served from the descriptor opened inside the box: a path would be re-resolved on the host (link targets included).
        var lastModified = File.GetLastWriteTimeUtc(file.SafeFileHandle);
        await Results.Stream(file, contentType, lastModified: lastModified, enableRangeProcessing: true)
            .ExecuteAsync(context).ConfigureAwait(false);
    }

    private async Task<IResult> MintAsync(HttpContext context, string name, DownloadUrlRequest body)
    {
        if (string.IsNullOrWhiteSpace(body.Path) || body.Path.Contains('\0', StringComparison.Ordinal))
        {
            return Invalid("path", "path is required.");
        }

        if (body.ExpiresInSeconds is < 1)
        {
            return Invalid("expires_in_seconds", "expires_in_seconds must be greater than 0; omit it for a link that never expires.");
        }

        if (body.ContentDisposition is not (null or "attachment" or "inline"))
        {
            return Invalid("content_disposition", "content_disposition must be 'attachment' or 'inline'.");
        }

        if (body.ContentType is { } ct && !MediaTypeHeaderValue.TryParse(ct, out _))
        {
            return Invalid("content_type", $"content_type '{ct}' is not a valid media type.");
        }

        var box = await boxes.FindAsync(name, context.RequestAborted).ConfigureAwait(false);
        if (box is null)
        {
            return Results.Json(ErrorResponse.Structured("NotFound", $"Sandbox '{name}' not found."), SandboxJson.Options, statusCode: 404);
        }

        var claims = new JsonObject { ["aud"] = Audience, ["sub"] = box.Id, ["path"] = body.Path };
        DateTimeOffset? expiresAt = null;
        if (body.ExpiresInSeconds is { } seconds)
        {
            expiresAt = DateTimeOffset.FromUnixTimeSeconds(signer.Now.ToUnixTimeSeconds() + seconds);
            claims["exp"] = expiresAt.Value.ToUnixTimeSeconds();
        }

        if (body.ContentType is not null)
        {
            claims["ct"] = body.ContentType;
        }

        if (body.ContentDisposition is not null)
        {
            claims["cd"] = body.ContentDisposition;
        }

        var token = signer.Sign(claims);
        return Results.Json(
            new DownloadUrlInfo
            {
                DownloadUrl = $"{context.Request.Scheme}://{context.Request.Host.Value}{PathPrefix}{token}",
                Token = token,
                ExpiresAt = expiresAt?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            },
            SandboxJson.Options);
    }

    private static IResult Invalid(string field, string message)
        => Results.Json(ErrorResponse.Validation(field, message), SandboxJson.Options, statusCode: 422);
}
