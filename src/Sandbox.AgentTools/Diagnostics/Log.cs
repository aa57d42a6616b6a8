using Microsoft.Extensions.Logging;

namespace Sandbox.AgentTools;

/// <summary>Every log message of the assembly, with stable event ids. Never logs secrets; code and file contents only at Trace.</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Debug, "Created sandbox {SandboxName} in {ElapsedMs:F0} ms.")]
    public static partial void BoxCreated(ILogger logger, string sandboxName, double elapsedMs);

    [LoggerMessage(1002, LogLevel.Warning, "Creating a sandbox failed.")]
    public static partial void BoxCreateFailed(ILogger logger, Exception exception);

    [LoggerMessage(1003, LogLevel.Debug, "Deleted sandbox {SandboxName} ({Reason}).")]
    public static partial void BoxDeleted(ILogger logger, string sandboxName, string reason);

    [LoggerMessage(1004, LogLevel.Warning, "Deleting sandbox {SandboxName} failed ({Reason}).")]
    public static partial void BoxDeleteFailed(ILogger logger, Exception exception, string sandboxName, string reason);

    [LoggerMessage(1005, LogLevel.Information, "Sandbox {SandboxName} of conversation {ConversationId} failed its health check; it is replaced.")]
    public static partial void BoxUnhealthy(ILogger logger, string sandboxName, string conversationId);

    [LoggerMessage(1006, LogLevel.Warning, "No sandbox for conversation {ConversationId} within {Timeout}.")]
    public static partial void AcquireTimedOut(ILogger logger, string conversationId, TimeSpan timeout);

    [LoggerMessage(1007, LogLevel.Warning, "Pruning the sandbox pool failed.")]
    public static partial void PruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(1101, LogLevel.Information, "The {Language} interpreter in sandbox {SandboxName} stopped ({Reason}); it is restarted and its state is lost.")]
    public static partial void InterpreterLost(ILogger logger, string language, string sandboxName, string reason);

    [LoggerMessage(1102, LogLevel.Debug, "Interrupting the {Language} interpreter (pid {Pid}) in sandbox {SandboxName} after {Timeout}.")]
    public static partial void InterpreterInterrupt(ILogger logger, string language, int pid, string sandboxName, TimeSpan timeout);

    [LoggerMessage(1103, LogLevel.Warning, "The {Language} interpreter in sandbox {SandboxName} did not answer the interrupt; it is killed.")]
    public static partial void InterpreterKilled(ILogger logger, string language, string sandboxName);

    [LoggerMessage(1104, LogLevel.Trace, "run_code {Language} in {SandboxName}: {Code}")]
    public static partial void RunCode(ILogger logger, string language, string sandboxName, string code);

    [LoggerMessage(1105, LogLevel.Warning, "Tool {ToolName} failed.")]
    public static partial void ToolFailed(ILogger logger, Exception exception, string toolName);

    [LoggerMessage(1106, LogLevel.Debug, "The run_code output callback threw while receiving {Language} output; ignored.")]
    public static partial void OutputCallbackFailed(ILogger logger, Exception exception, string language);
}
