namespace Sandbox.Server.Runtime;

/// <summary>
/// Seam for features that need to shape a box before it starts (e.g. the egress proxy adds <c>HTTP_PROXY</c> and a CA bundle).
/// Every registered contributor is called, in registration order, each time a box starts.
/// </summary>
internal interface IBoxStartContributor
{
    /// <summary>Adds environment variables and read-only bind mounts to <paramref name="context"/>.</summary>
    ValueTask ContributeAsync(BoxStartContext context, CancellationToken cancellationToken);

    /// <summary>Called once the box runs, with its network namespace (e.g. to listen on the box's loopback).</summary>
    ValueTask OnStartedAsync(BoxStartContext context, string networkNamespacePath, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
