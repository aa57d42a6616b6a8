using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>The pool's seam to the sandbox service: create, check and delete one box.</summary>
internal interface ISandboxProvisioner
{
    /// <summary>Creates a ready box.</summary>
    Task<SandboxInstance> CreateAsync(CancellationToken cancellationToken);

    /// <summary>True when the box still exists and is ready to run commands.</summary>
    Task<bool> IsHealthyAsync(SandboxInstance box, CancellationToken cancellationToken);

    /// <summary>Deletes the box; a box that is already gone is not an error.</summary>
    Task DeleteAsync(SandboxInstance box, CancellationToken cancellationToken);
}
