namespace Sandbox.Protocol;

/// <summary>A credential in a proxy or mount configuration.</summary>
/// <remarks>
/// <c>workspace_secret</c> values are references (<c>{NAME}</c>) resolved by the server; <c>opaque</c> values are
/// write-only literals the server stores and never returns. Neither ever reaches the inside of a sandbox.
/// </remarks>
public sealed record SecretValue
{
    /// <summary><c>workspace_secret</c>, <c>opaque</c> or <c>plaintext</c>; see <see cref="SecretTypes"/>.</summary>
    public string Type { get; set; } = SecretTypes.WorkspaceSecret;

    /// <summary>The reference or value; servers omit it in responses.</summary>
    public string? Value { get; init; }

    /// <summary>Response-side marker that a write-only value is stored.</summary>
    public bool? IsSet { get; init; }

    /// <inheritdoc/>
    public override string ToString() => $"SecretValue {{ Type = {Type}, Value = {(Value is null ? "<none>" : "<redacted>")} }}";
}
