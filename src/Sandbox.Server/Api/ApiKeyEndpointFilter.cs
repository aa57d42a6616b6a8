using System.Security.Cryptography;
using System.Text;
using Sandbox.Protocol;

namespace Sandbox.Server.Api;

/// <summary>
/// Requires the configured API key in <c>X-Api-Key</c> (any casing of the header name), or a web console session that
/// the console middleware has already checked (cookie, origin and CSRF token).
/// </summary>
internal sealed class ApiKeyEndpointFilter : IEndpointFilter
{
    private readonly byte[] _key;

    public ApiKeyEndpointFilter(ServerState state) => _key = Encoding.UTF8.GetBytes(state.ApiKey);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (WebConsole.ConsoleSessions.IsAuthenticated(context.HttpContext))
        {
            return await next(context).ConfigureAwait(false);
        }

        string? presented = context.HttpContext.Request.Headers["X-Api-Key"];
        if (string.IsNullOrEmpty(presented))
        {
            return Results.Json(ErrorResponse.Structured("Unauthorized", "Missing API key: send it in the X-Api-Key header"), SandboxJson.Options, statusCode: 401);
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _key))
        {
            return Results.Json(ErrorResponse.Structured("Unauthorized", "Invalid API key"), SandboxJson.Options, statusCode: 401);
        }

        return await next(context).ConfigureAwait(false);
    }
}
