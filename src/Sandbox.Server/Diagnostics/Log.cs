
namespace Sandbox.Server.Diagnostics;

/// <summary>All log messages of the server, with stable event ids. Never logs API keys, command text or file contents above Trace.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Sandbox server listening on {Endpoint}; data in {DataDirectory}")]
    public static partial void ServerStarted(ILogger logger, string endpoint, string dataDirectory);

    [LoggerMessage(2, LogLevel.Warning, "Box isolation is unavailable: {Reason}")]
    public static partial void IsolationUnavailable(ILogger logger, string reason);

    [LoggerMessage(3, LogLevel.Information, "Limits on this machine: {Limits}")]
    public static partial void Limits(ILogger logger, string limits);

    [LoggerMessage(4, LogLevel.Information, "Removed {Count} cgroups left by sandbox servers that are no longer running")]
    public static partial void StaleGroupsRemoved(ILogger logger, int count);

    [LoggerMessage(10, LogLevel.Information, "Box {BoxId} ({BoxName}) started in {ElapsedMs} ms")]
    public static partial void BoxStarted(ILogger logger, string boxId, string boxName, double elapsedMs);

    [LoggerMessage(11, LogLevel.Information, "Box {BoxId} ({BoxName}) stopped: {Reason}")]
    public static partial void BoxStopped(ILogger logger, string boxId, string boxName, string reason);

    [LoggerMessage(12, LogLevel.Warning, "Box {BoxId} failed to start: {Message}")]
    public static partial void BoxStartFailed(ILogger logger, string boxId, string message);

    [LoggerMessage(13, LogLevel.Information, "Box {BoxId} ({BoxName}) deleted")]
    public static partial void BoxDeleted(ILogger logger, string boxId, string boxName);

    [LoggerMessage(14, LogLevel.Debug, "Box {BoxId} launcher: {Line}")]
    public static partial void BoxLauncherOutput(ILogger logger, string boxId, string line);

    [LoggerMessage(41, LogLevel.Warning, "Box {BoxId}: the command spawner did not start; its commands start through sandbox-box-exec")]
    public static partial void CommandSpawnerUnavailable(ILogger logger, string boxId, Exception exception);

    [LoggerMessage(15, LogLevel.Warning, "Box metadata {Path} could not be loaded")]
    public static partial void BoxLoadFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(16, LogLevel.Warning, "Box {BoxId}: a process was killed for running out of memory")]
    public static partial void BoxOutOfMemory(ILogger logger, string boxId);

    [LoggerMessage(17, LogLevel.Warning, "Background maintenance of box {BoxId} failed")]
    public static partial void SweepFailed(ILogger logger, string boxId, Exception exception);

    [LoggerMessage(18, LogLevel.Debug, "Box {BoxId}: teardown finished in {ElapsedMs} ms")]
    public static partial void BoxTornDown(ILogger logger, string boxId, double elapsedMs);

    [LoggerMessage(19, LogLevel.Warning, "Box {BoxId}: teardown failed; the next server start removes what is left")]
    public static partial void TeardownFailed(ILogger logger, string boxId, Exception exception);

    [LoggerMessage(20, LogLevel.Debug, "Box {BoxId}: command {CommandId} started (pid {Pid})")]
    public static partial void CommandStarted(ILogger logger, string boxId, string commandId, int pid);

    [LoggerMessage(21, LogLevel.Trace, "Box {BoxId}: command {CommandId} text: {Command}")]
    public static partial void CommandText(ILogger logger, string boxId, string commandId, string command);

    [LoggerMessage(22, LogLevel.Debug, "Execution socket of box {BoxId} ended: {Reason}")]
    public static partial void SocketEnded(ILogger logger, string boxId, string reason);

    [LoggerMessage(30, LogLevel.Warning, "Snapshot metadata in {Path} could not be loaded")]
    public static partial void SnapshotLoadFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(31, LogLevel.Warning, "Snapshot {SnapshotId} build failed")]
    public static partial void SnapshotBuildFailed(ILogger logger, string snapshotId, Exception exception);

    [LoggerMessage(32, LogLevel.Debug, "Layer entry {Entry} skipped: {Reason}")]
    public static partial void LayerEntrySkipped(ILogger logger, string entry, string reason);

    [LoggerMessage(33, LogLevel.Information, "{Line}")]
    public static partial void DefaultSnapshotProgress(ILogger logger, string line);

    [LoggerMessage(40, LogLevel.Error, "Unhandled error serving {Path}")]
    public static partial void UnhandledError(ILogger logger, string path, Exception exception);
}
