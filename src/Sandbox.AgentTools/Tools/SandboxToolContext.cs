using Microsoft.Extensions.Logging;

namespace Sandbox.AgentTools;

/// <summary>What every tool of one tool set shares.</summary>
internal sealed class SandboxToolContext
{
    public SandboxToolContext(SandboxLeasePool pool, string? fixedConversationId, SandboxToolOptions options, TimeProvider time, ILogger logger,
        ToolNaming? naming = null)
    {
        Pool = pool;
        FixedConversationId = fixedConversationId;
        Options = options;
        Time = time;
        Logger = logger;
        Naming = naming ?? ToolNaming.Plain;
        Policy = new WorkspacePathPolicy(options.WorkspaceRoot);
        Runner = new CodeRunner(options, Policy, time, logger);
    }

    public SandboxLeasePool Pool { get; }

    /// <summary>The conversation of a set created for one conversation; null when each call resolves its own.</summary>
    public string? FixedConversationId { get; }

    public SandboxToolOptions Options { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public ToolNaming Naming { get; }

    public WorkspacePathPolicy Policy { get; }

    public CodeRunner Runner { get; }
}
