using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Protocol;

/// <summary>
/// The error body of every non-2xx response (spec §3.1): <c>{"detail": ...}</c> where detail is an
/// <see cref="ErrorDetail"/>, a list of <see cref="ValidationErrorItem"/> (FastAPI validation), or a string.
/// </summary>
/// <remarks>The server builds one with <see cref="Structured"/>, <see cref="Validation"/> or <see cref="Text"/>; a
/// reader calls <see cref="Parse(string?)"/> and reads <see cref="ErrorType"/>, <see cref="Message"/>,
/// <see cref="ErrorId"/> and <see cref="ValidationErrors"/>, which tolerate any shape.</remarks>
public sealed record ErrorResponse
{
    /// <summary>An error body without a detail: what <see cref="Parse(string?)"/> returns for an empty or foreign body.</summary>
    public static ErrorResponse Empty { get; } = new();

    /// <summary>The raw detail.</summary>
    public JsonElement Detail { get; init; }

    /// <summary>The machine-readable type of a structured detail (<c>detail.error</c>), else <see langword="null"/>.</summary>
    [JsonIgnore]
    public string? ErrorType => Detail.ValueKind == JsonValueKind.Object ? StringProperty(Detail, "error") : null;

    /// <summary>The correlation id of a structured detail (<c>detail.error_id</c>), else <see langword="null"/>.</summary>
    [JsonIgnore]
    public string? ErrorId => Detail.ValueKind == JsonValueKind.Object ? StringProperty(Detail, "error_id") : null;

    /// <summary>The human-readable message: <c>detail.message</c>, the validation messages joined with <c>"; "</c>, or
    /// the plain-string detail; <see langword="null"/> when there is none.</summary>
    [JsonIgnore]
    public string? Message => Detail.ValueKind switch
    {
        JsonValueKind.String => Detail.GetString(),
        JsonValueKind.Object => StringProperty(Detail, "message"),
        JsonValueKind.Array => string.Join("; ", ValidationErrors!.Select(i => i.Msg)) is { Length: > 0 } joined ? joined : null,
        _ => null,
    };

    /// <summary>The entries of a validation detail (objects only; a non-string <c>loc</c> element is kept as its JSON
    /// text), else <see langword="null"/>.</summary>
    [JsonIgnore]
    public IReadOnlyList<ValidationErrorItem>? ValidationErrors
    {
        get
        {
            if (Detail.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var items = new List<ValidationErrorItem>();
            foreach (var entry in Detail.EnumerateArray())
            {
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var loc = entry.TryGetProperty("loc", out var l) && l.ValueKind == JsonValueKind.Array
                    ? l.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).ToList()
                    : [];
                items.Add(new ValidationErrorItem { Loc = loc, Msg = StringProperty(entry, "msg") ?? "", Type = StringProperty(entry, "type") ?? "" });
            }

            return items;
        }
    }

    /// <summary>The field a validation detail names: the last <c>loc</c> element of its first entry.</summary>
    [JsonIgnore]
    public string? Field => ValidationErrors is { Count: > 0 } list && list[0].Loc.Count > 0 ? list[0].Loc[^1] : null;

    /// <summary>A structured error body.</summary>
    public static ErrorResponse Structured(string error, string message) =>
        new() { Detail = JsonSerializer.SerializeToElement(new ErrorDetail { Error = error, Message = message }, SandboxJson.Options) };

    /// <summary>A FastAPI-style validation list with one entry.</summary>
    public static ErrorResponse Validation(string field, string message, string type = "value_error") =>
        new() { Detail = JsonSerializer.SerializeToElement<IReadOnlyList<ValidationErrorItem>>([new ValidationErrorItem { Loc = ["body", field], Msg = message, Type = type }], SandboxJson.Options) };

    /// <summary>A plain-string detail.</summary>
    public static ErrorResponse Text(string message) => new() { Detail = JsonSerializer.SerializeToElement(message, SandboxJson.Options) };

    /// <summary>Reads an error body; an empty, non-JSON or foreign body gives <see cref="Empty"/>, never an exception.</summary>
    public static ErrorResponse Parse(string? text) =>
        string.IsNullOrWhiteSpace(text) ? Empty : Parse(System.Text.Encoding.UTF8.GetBytes(text).AsMemory());

    /// <summary>Reads an error body from UTF-8; an empty, non-JSON or foreign body gives <see cref="Empty"/>, never an exception.</summary>
    public static ErrorResponse Parse(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("detail", out var detail)
                ? new ErrorResponse { Detail = detail.Clone() }
                : Empty;
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    private static string? StringProperty(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
