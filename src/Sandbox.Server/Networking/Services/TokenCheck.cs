using System.Text.Json;

namespace Sandbox.Server.Networking.Services;

/// <summary>The outcome of verifying a token: a failure, or the verified claims.</summary>
internal readonly record struct TokenCheck(TokenFailure Failure, JsonElement Claims)
{
    public bool IsValid => Failure == TokenFailure.None;

    public static TokenCheck Failed(TokenFailure failure) => new(failure, default);

    public string Subject => Claims.GetProperty("sub").GetString()!;

    public int? GetInt(string name) => Claims.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;

    public long? GetLong(string name) => Claims.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;

    public string? GetString(string name) => Claims.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
