namespace Sandbox.Protocol;

/// <summary>Response of the blocking <c>POST {dataplane}/execute</c>. A non-zero exit code is a normal result.</summary>
public sealed record ExecuteResponse
{
    /// <summary>Standard output.</summary>
    public string Stdout { get; set; } = "";

    /// <summary>Standard error.</summary>
    public string Stderr { get; set; } = "";

    /// <summary>Exit code; -1 when the server sent none.</summary>
    public int ExitCode { get; set; } = -1;
}
