using Sandbox.Protocol;
using Sandbox.Server.Diagnostics;
using Sandbox.Server.Errors;
using Sandbox.Server.Files;

namespace Sandbox.Server.Api;

/// <summary>Turns <see cref="DomainException"/>, <see cref="ApiException"/> and other failures into spec-shaped <c>{"detail": ...}</c> responses.</summary>
internal sealed class ApiErrorEndpointFilter : IEndpointFilter
{
    private readonly ILogger<ApiErrorEndpointFilter> _logger;

    public ApiErrorEndpointFilter(ILogger<ApiErrorEndpointFilter> logger) => _logger = logger;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (ApiException e)
        {
            return Error(context.HttpContext, e.StatusCode, e.Body);
        }
        catch (DomainException e)
        {
            var (status, body) = DomainErrorMapping.ToWire(e);
            return Error(context.HttpContext, status, body);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            return Error(context.HttpContext, 413, ErrorResponse.Structured("PayloadTooLarge", "Request body too large"));
        }
        catch (BoxFileException e)
        {
            var (status, type) = FileErrorStatus(e.Error);
            return Error(context.HttpContext, status, ErrorResponse.Structured(type, e.Message));
        }
        catch (OperationCanceledException) when (context.HttpContext.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            Log.UnhandledError(_logger, context.HttpContext.Request.Path, e);
            return Error(context.HttpContext, 500, ErrorResponse.Structured("InternalError", "Internal server error: " + e.Message));
        }
    }

    internal static (int Status, string Type) FileErrorStatus(BoxFileError error) => error switch
    {
        BoxFileError.NotFound => (404, "FileNotFound"),
        BoxFileError.PermissionDenied => (403, "PermissionDenied"),
        BoxFileError.IsDirectory => (400, "IsADirectory"),
        BoxFileError.NotDirectory => (400, "NotADirectory"),
        BoxFileError.NoSpace => (507, "WriteError"),
        BoxFileError.InvalidPath => (400, "InvalidPath"),
        BoxFileError.NotRegularFile => (400, "NotARegularFile"),
        BoxFileError.WalkLimit => (422, "WalkLimitExceeded"),
        BoxFileError.Busy => (429, "TooManyRequests"),
        BoxFileError.Conflict => (409, "Conflict"),
        _ => (500, "ReadError"),
    };

    private static IResult Error(HttpContext context, int status, ErrorResponse body)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Results.Empty;
        }

        return Results.Json(body, SandboxJson.Options, statusCode: status);
    }
}
