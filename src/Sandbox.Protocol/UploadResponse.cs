namespace Sandbox.Protocol;

/// <summary>Response of <c>POST {dataplane}/upload</c> (clients ignore it; the local server sends it).</summary>
public sealed record UploadResponse
{
    /// <summary>Absolute path written.</summary>
    public string Path { get; set; } = "";

    /// <summary>Bytes written.</summary>
    public long Written { get; init; }
}
