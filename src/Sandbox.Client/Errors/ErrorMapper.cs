using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Maps non-2xx responses to exceptions exactly as spec §3.3–3.6 (Python column where the SDKs differ).</summary>
internal static class ErrorMapper
{
    /// <summary>Generic control-plane mapping (spec §3.3).</summary>
    public static SandboxException ControlPlane(int status, string? reason, ErrorResponse body)
    {
        var message = Message(body, status, reason);
        SandboxException error = status switch
        {
            401 or 403 => new SandboxAuthenticationException(message),
            404 => new ResourceNotFoundException(message),
            422 => new SandboxValidationException(message, body.Field, body.ValidationErrors),
            429 => new QuotaExceededException(message, QuotaType(message)),
            502 when body.ErrorType == "ConnectionError" => new SandboxConnectionException(message),
            500 => new SandboxApiException(message),
            _ => new SandboxException(message),
        };
        return Decorate(error, status, body);
    }

    /// <summary>Create-specific mapping (spec §3.4).</summary>
    public static SandboxException CreateSandbox(int status, string? reason, ErrorResponse body)
    {
        var message = Message(body, status, reason);
        SandboxException? error = status switch
        {
            408 => new ResourceTimeoutException(message, "sandbox"),
            409 => new ResourceAlreadyExistsException(message, "sandbox"),
            422 when body.ValidationErrors is { } list && list.Any(i => i.Type == "value_error") =>
                new SandboxValidationException(message, body.Field, body.ValidationErrors),
            422 => new ResourceCreationException(message, "sandbox", body.ErrorType),
            429 => new QuotaExceededException(message, QuotaType(message)),
            503 => new ResourceCreationException(message, "sandbox", body.ErrorType ?? "Unschedulable"),
            _ => null,
        };
        return error is null ? ControlPlane(status, reason, body) : Decorate(error, status, body);
    }

    /// <summary>Data-plane mapping for execute/upload/download (spec §3.6, Python column).</summary>
    public static SandboxException DataPlane(int status, string? reason, ErrorResponse body)
    {
        var message = Message(body, status, reason);
        SandboxException error = body.ErrorType switch
        {
            "WriteError" => new SandboxOperationException(message, "write", "WriteError"),
            "ReadError" => new SandboxOperationException(message, "read", "ReadError"),
            "CommandError" => new SandboxOperationException(message, "command", "CommandError"),
            _ when status == 403 => new SandboxOperationException(message, null, "PermissionDenied"),
            "ConnectionError" when status == 502 => new SandboxConnectionException(message),
            "NotReady" when status == 400 => new SandboxNotReadyException(message),
            "ServiceUnavailable" when status == 503 => new SandboxNotReadyException(message),
            _ when status == 404 || body.ErrorType == "FileNotFound" => new ResourceNotFoundException(message, "file"),
            _ => new SandboxException(message),
        };
        return Decorate(error, status, body);
    }

    /// <summary>The message: structured <c>detail.message</c>, joined validation messages or the plain string, falling
    /// back to <c>HTTP status: reason</c>; with <c> (error_id=…)</c> appended when an id is present (delta §2.3).</summary>
    public static string Message(ErrorResponse body, int status, string? reason)
    {
        var message = string.IsNullOrEmpty(body.Message) ? $"HTTP {status}: {reason}" : body.Message;
        return string.IsNullOrEmpty(body.ErrorId) ? message : $"{message} (error_id={body.ErrorId})";
    }

    /// <summary>Quota type from the lower-cased message (spec §3.3).</summary>
    public static string? QuotaType(string message)
    {
        var lower = message.ToLowerInvariant();
        if (lower.Contains("sandbox", StringComparison.Ordinal) && (lower.Contains("count", StringComparison.Ordinal) || lower.Contains("limit", StringComparison.Ordinal)))
        {
            return "sandbox_count";
        }

        return lower.Contains("cpu", StringComparison.Ordinal) ? "cpu"
            : lower.Contains("memory", StringComparison.Ordinal) ? "memory"
            : lower.Contains("storage", StringComparison.Ordinal) ? "storage"
            : null;
    }

    /// <summary>Maps an execution <c>error</c> frame (spec §8.5.7).</summary>
    public static SandboxOperationException ErrorFrame(string? errorType, string? error, bool reattach, string commandId, TimeSpan? timeout)
    {
        var type = string.IsNullOrEmpty(errorType) ? "CommandError" : errorType;
        var text = error ?? "Unknown error";
        var operation = reattach ? "reconnect" : "command";
        return type switch
        {
            "CommandTimeout" => new CommandTimeoutException(text, timeout),
            "CommandNotFound" when reattach => new SandboxOperationException($"Command not found: {commandId}", operation, type),
            "SessionExpired" when reattach => new SandboxOperationException($"Session expired: {commandId}", operation, type),
            _ => new SandboxOperationException(text, operation, type),
        };
    }

    private static SandboxException Decorate(SandboxException error, int status, ErrorResponse body)
    {
        // StatusCode/ErrorId are init-only; set them through a copy-free helper.
        error.SetResponse(status, body.ErrorType, body.ErrorId);
        return error;
    }
}
