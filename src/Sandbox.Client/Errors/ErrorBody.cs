using System.Text.Json;
using Sandbox.Client.Protocol;

namespace Sandbox.Client;

/// <summary>The parts of an error response the SDKs understand (spec §3.1).</summary>
internal sealed record ErrorBody(string? ErrorType, string? DetailMessage, string? ErrorId, IReadOnlyList<ValidationErrorItem>? Validation)
{
    public static readonly ErrorBody Empty = new(null, null, null, null);

    public string? Field => Validation is { Count: > 0 } list && list[0].Loc.Count > 0 ? list[0].Loc[^1] : null;

    /// <summary>The message: structured <c>detail.message</c>, joined validation messages or the plain string, falling
    /// back to <c>HTTP status: reason</c>; with <c> (error_id=…)</c> appended when an id is present (delta §2.3).</summary>
    public string Message(int status, string? reason)
    {
        var message = string.IsNullOrEmpty(DetailMessage) ? $"HTTP {status}: {reason}" : DetailMessage;
        return string.IsNullOrEmpty(ErrorId) ? message : $"{message} (error_id={ErrorId})";
    }

    public static ErrorBody Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Empty;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("detail", out var detail))
            {
                return Empty;
            }

            switch (detail.ValueKind)
            {
                case JsonValueKind.String:
                    return new ErrorBody(null, detail.GetString(), null, null);
                case JsonValueKind.Object:
                    return new ErrorBody(
                        GetString(detail, "error"),
                        GetString(detail, "message"),
                        GetString(detail, "error_id"),
                        null);
                case JsonValueKind.Array:
                    var items = new List<ValidationErrorItem>();
                    foreach (var entry in detail.EnumerateArray())
                    {
                        if (entry.ValueKind != JsonValueKind.Object)
                        {
                            continue;
                        }

                        var loc = entry.TryGetProperty("loc", out var l) && l.ValueKind == JsonValueKind.Array
                            ? l.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).ToList()
                            : [];
                        items.Add(new ValidationErrorItem { Loc = loc, Msg = GetString(entry, "msg") ?? "", Type = GetString(entry, "type") ?? "" });
                    }

                    var joined = string.Join("; ", items.Select(i => i.Msg));
                    return new ErrorBody(null, joined.Length == 0 ? null : joined, null, items);
                default:
                    return Empty;
            }
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
