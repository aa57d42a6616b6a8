using Sandbox.Protocol;

namespace Sandbox.Server.Api;

/// <summary>An error the API reports with a specific status code and a spec-shaped <c>{"detail": ...}</c> body.</summary>
internal sealed class ApiException : Exception
{
    public ApiException(int statusCode, ErrorResponse body, string message)
        : base(message)
    {
        StatusCode = statusCode;
        Body = body;
    }

    public ApiException()
    {
        Body = ErrorResponse.Text("error");
    }

    public ApiException(string message)
        : base(message)
    {
        Body = ErrorResponse.Text(message);
    }

    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        Body = ErrorResponse.Text(message);
    }

    public int StatusCode { get; } = 500;

    public ErrorResponse Body { get; }

    /// <summary>Structured error <c>{"detail": {"error": type, "message": message}}</c>.</summary>
    public static ApiException Structured(int status, string errorType, string message) =>
        new(status, ErrorResponse.Structured(errorType, message), message);

    /// <summary>FastAPI-style validation list (422) naming the offending body field.</summary>
    public static ApiException Validation(string field, string message) =>
        new(422, ErrorResponse.Validation(field, message), message);

    public static ApiException SandboxNotFound(string name) =>
        Structured(404, "NotFound", $"Sandbox '{name}' not found");

    public static ApiException SnapshotNotFound(string id) =>
        Structured(404, "NotFound", $"Snapshot '{id}' not found");
}
