namespace Sandbox.Protocol;

/// <summary>A header a proxy rule injects.</summary>
public sealed record ProxyHeader
{
    /// <summary>Header name.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>plaintext</c>, <c>opaque</c> or <c>workspace_secret</c>; see <see cref="SecretTypes"/>.</summary>
    public string Type { get; set; } = SecretTypes.Plaintext;

    /// <summary>The value; may contain <c>{NAME}</c> workspace-secret references. Omitted in responses for secrets.</summary>
    public string? Value { get; init; }

    /// <summary>Response-side marker that a write-only value is stored.</summary>
    public bool? IsSet { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"ProxyHeader {{ Name = {Name}, Type = {Type}, Value = <redacted> }}";
}
