using System.Text.Json;

namespace Sandbox.Client.Protocol;

/// <summary>An error body: <c>{"detail": ...}</c> where detail is an <see cref="ErrorDetail"/>, a list of <see cref="ValidationErrorItem"/>, or a string.</summary>
public sealed record ErrorResponse
{
    /// <summary>The raw detail.</summary>
    public JsonElement Detail { get; init; }

    /// <summary>A structured error body.</summary>
    public static ErrorResponse Structured(string error, string message) =>
        new() { Detail = JsonSerializer.SerializeToElement(new ErrorDetail { Error = error, Message = message }, SandboxJson.Options) };

    /// <summary>A FastAPI-style validation list with one entry.</summary>
    public static ErrorResponse Validation(string field, string message, string type = "value_error") =>
        new() { Detail = JsonSerializer.SerializeToElement(new[] { new ValidationErrorItem { Loc = ["body", field], Msg = message, Type = type } }, SandboxJson.Options) };

    /// <summary>A plain-string detail.</summary>
    public static ErrorResponse Text(string message) => new() { Detail = JsonSerializer.SerializeToElement(message, SandboxJson.Options) };
}
