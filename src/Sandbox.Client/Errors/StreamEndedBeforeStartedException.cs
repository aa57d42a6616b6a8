namespace Sandbox.Client;

/// <summary>The execution socket closed cleanly before the <c>started</c> frame (Py <c>_StreamEndedBeforeStarted</c>).
/// <c>RunAsync</c> retries this with the same command id.</summary>
internal sealed class StreamEndedBeforeStartedException : SandboxOperationException
{
    public StreamEndedBeforeStartedException(string message)
        : base(message, "command", "StreamEndedBeforeStarted")
    {
    }
}
