using System.Globalization;

namespace Sandbox.Server.Runtime;

/// <summary>ISO 8601 timestamps as the API emits them (UTC, second resolution, trailing Z).</summary>
internal static class Timestamps
{
    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string? Format(DateTimeOffset? value) => value is { } v ? Format(v) : null;
}
