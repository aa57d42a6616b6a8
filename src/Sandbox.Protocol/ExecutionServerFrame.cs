namespace Sandbox.Protocol;

/// <summary>A server → client frame on <c>{dataplane}/execute/ws</c>: <c>started</c>, <c>stdout</c>, <c>stderr</c>, <c>exit</c> or <c>error</c>.</summary>
public sealed record ExecutionServerFrame
{
    /// <summary>Frame type; see <see cref="ExecutionFrameTypes"/>.</summary>
    public string Type { get; set; } = "";

    /// <summary>started: the command id.</summary>
    public string? CommandId { get; init; }

    /// <summary>started: process id of the command as seen inside the sandbox.</summary>
    public int? Pid { get; init; }

    /// <summary>stdout/stderr: UTF-8 text of the chunk.</summary>
    public string? Data { get; init; }

    /// <summary>stdout/stderr: byte offset of the chunk's first byte within its stream.</summary>
    public long? Offset { get; init; }

    /// <summary>exit: exit code.</summary>
    public int? ExitCode { get; init; }

    /// <summary>error: error type (<c>CommandTimeout</c>, <c>CommandNotFound</c>, <c>SessionExpired</c>, ...).</summary>
    public string? ErrorType { get; init; }

    /// <summary>error: message.</summary>
    public string? Error { get; init; }
}
