using Sandbox.Protocol;
using Sandbox.Server.Errors;

namespace Sandbox.Server.Api;

/// <summary>The one place where a <see cref="DomainException"/> becomes a wire error: status code, error type and body.</summary>
internal static class DomainErrorMapping
{
    public static (int Status, ErrorResponse Body) ToWire(DomainException error) => error switch
    {
        NotFoundException => (404, ErrorResponse.Structured("NotFound", error.Message)),
        ConflictException => (409, ErrorResponse.Structured("Conflict", error.Message)),
        InvalidRequestException invalid => (422, ErrorResponse.Validation(invalid.Field, invalid.Message)),
        BoxConfigException => (422, ErrorResponse.Structured("SandboxConfig", error.Message)),
        BoxStartTimeoutException => (408, ErrorResponse.Structured("Timeout", error.Message)),
        BoxUnavailableException { HostCannotRunBoxes: true } => (503, ErrorResponse.Structured("Unschedulable", error.Message)),
        BoxUnavailableException => (503, ErrorResponse.Structured("ServiceUnavailable", error.Message)),
        _ => (500, ErrorResponse.Structured("InternalError", "Internal server error: " + error.Message)),
    };
}
