using Microsoft.Extensions.Logging;

namespace Sandbox.AgentTools;

/// <summary>What every tool of one conversation's tool set shares.</summary>
internal sealed class SandboxToolContext
{
    public SandboxToolContext(SandboxLeasePool pool, string conversationId, SandboxToolOptions options, TimeProvider time, ILogger logger)
    {
        Pool = pool;
        ConversationId = conversationId;
        Options = options;
        Time = time;
        Logger = logger;
        Policy = new WorkspacePathPolicy(options.WorkspaceRoot);
        Runner = new CodeRunner(options, Policy, time, logger);
    }

    public SandboxLeasePool Pool { get; }

    public string ConversationId { get; }

    public SandboxToolOptions Options { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public WorkspacePathPolicy Policy { get; }

    public CodeRunner Runner { get; }
}
