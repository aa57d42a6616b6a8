using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sandbox.AgentTools;

/// <summary>Creates per-conversation tool sets from the services registered by <c>AddSandboxAgentTools</c>.</summary>
/// <remarks>Thread-safe singleton.</remarks>
public sealed class SandboxToolFactory
{
    private readonly SandboxLeasePool _pool;
    private readonly SandboxToolOptions _options;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the factory.</summary>
    /// <param name="pool">The lease pool.</param>
    /// <param name="options">Tool options.</param>
    /// <param name="loggerFactory">Logging (optional).</param>
    /// <param name="timeProvider">Clock (optional).</param>
    public SandboxToolFactory(SandboxLeasePool pool, IOptions<SandboxToolOptions> options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(options);
        _pool = pool;
        _options = options.Value;
        _loggerFactory = loggerFactory;
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The pool behind the tools (to release a finished conversation with <see cref="SandboxLeasePool.ReleaseConversationAsync"/>).</summary>
    public SandboxLeasePool Pool => _pool;

    /// <summary>The tools of one conversation; see <see cref="SandboxTools.Create(SandboxLeasePool, string, SandboxToolOptions?, ILoggerFactory?, TimeProvider?)"/>.</summary>
    /// <param name="conversationId">The conversation (affinity key).</param>
    /// <returns>The tools.</returns>
    public IList<AITool> CreateTools(string conversationId) => SandboxTools.Create(_pool, conversationId, _options, _loggerFactory, _timeProvider);

    /// <summary>
    /// One tool set for any number of conversations, each call resolving its own; see
    /// <see cref="SandboxTools.Create(SandboxLeasePool, SandboxToolOptions?, ILoggerFactory?, TimeProvider?)"/>.
    /// </summary>
    /// <returns>The tools.</returns>
    public IList<AITool> CreateTools() => SandboxTools.Create(_pool, _options, _loggerFactory, _timeProvider);

    /// <summary>The options the tools are created with.</summary>
    public SandboxToolOptions Options => _options;

    /// <summary>The logger factory the tools log to, if any.</summary>
    public ILoggerFactory? LoggerFactory => _loggerFactory;

    /// <summary>The clock the tools use.</summary>
    public TimeProvider TimeProvider => _timeProvider;
}
