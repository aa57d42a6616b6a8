using Microsoft.Extensions.Logging;

namespace Sandbox.Client;

/// <summary>Logging of the client. Event ids are stable; API keys, tokens and command text are never logged here.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Retrying {Method} request (attempt {Attempt}, status {Status}) after {DelaySeconds:F2}s")]
    public static partial void HttpRetry(ILogger logger, string method, int attempt, int status, double delaySeconds);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Execution stream connect attempt {Attempt} failed ({Reason}); retrying after {DelaySeconds:F2}s")]
    public static partial void ConnectRetry(ILogger logger, int attempt, string reason, double delaySeconds);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Execution stream of command {CommandId} lost ({Reason}); re-attaching (attempt {Attempt}) after {DelaySeconds:F2}s")]
    public static partial void Reattach(ILogger logger, string commandId, int attempt, string reason, double delaySeconds);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Ignoring 'started' acknowledgement for command {OtherId} on the stream of command {CommandId}")]
    public static partial void ForeignAck(ILogger logger, string commandId, string otherId);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Debug, Message = "Refreshing service URL of sandbox {Sandbox} port {Port}")]
    public static partial void ServiceUrlRefresh(ILogger logger, string sandbox, int port);
}
