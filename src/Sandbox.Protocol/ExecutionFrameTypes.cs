namespace Sandbox.Protocol;

/// <summary>Frame type names of the execution WebSocket.</summary>
public static class ExecutionFrameTypes
{
    /// <summary>Client: start (or attach to) a command.</summary>
    public const string Execute = "execute";

    /// <summary>Client: reattach to a command from byte offsets.</summary>
    public const string Reconnect = "reconnect";

    /// <summary>Client: write to stdin.</summary>
    public const string Input = "input";

    /// <summary>Client: SIGKILL the command's process group.</summary>
    public const string Kill = "kill";

    /// <summary>Client: half-close stdin.</summary>
    public const string CloseStdin = "close_stdin";

    /// <summary>Server: the command exists (also the reattach acknowledgement).</summary>
    public const string Started = "started";

    /// <summary>Server: a chunk of standard output.</summary>
    public const string Stdout = "stdout";

    /// <summary>Server: a chunk of standard error.</summary>
    public const string Stderr = "stderr";

    /// <summary>Server: the command finished (terminal).</summary>
    public const string Exit = "exit";

    /// <summary>Server: terminal failure.</summary>
    public const string Error = "error";
}
