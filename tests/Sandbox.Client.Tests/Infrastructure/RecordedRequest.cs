using System.Text;
using System.Text.Json;

namespace Sandbox.Client.Tests.Infrastructure;

/// <summary>One HTTP request as it arrived at the fake server.</summary>
public sealed record RecordedRequest(string Method, string Path, string QueryString, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);

    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    /// <summary>Top-level JSON keys of the body, in order.</summary>
    public IReadOnlyList<string> JsonKeys => [.. Json.EnumerateObject().Select(p => p.Name)];
}
