namespace Sandbox.Server.Snapshots;

/// <summary>An image could not be imported (the message is shown as the snapshot's status_message).</summary>
internal class SnapshotImportException : Exception
{
    public SnapshotImportException()
    {
    }

    public SnapshotImportException(string message)
        : base(message)
    {
    }

    public SnapshotImportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
