using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Sandbox.AgentTools.Mcp.Sessions;

/// <summary>
/// Which conversation an MCP tool call belongs to: one per MCP session (Streamable HTTP, stateful), one for the
/// process (a single-session transport such as stdio), or, with no session at all (stateless HTTP), a fresh one per
/// call that is released when the call ends.
/// </summary>
internal sealed partial class SandboxMcpSessions
{
    private readonly SandboxToolFactory _factory;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<Session>> _sessions = new(StringComparer.Ordinal);
    private readonly Lazy<Session>? _processSession;

    public SandboxMcpSessions(SandboxToolFactory factory, IServiceProvider services, ILogger<SandboxMcpSessions>? logger = null)
    {
        _factory = factory;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        Declarations = factory.CreateTools("mcp-declarations");
        // A transport registered in the container (stdio, a stream) serves exactly one session: the process. (Asked
        // without resolving it: the stdio transport's factory needs the server options, which need these tools.)
        if (services.GetService(typeof(IServiceProviderIsService)) is IServiceProviderIsService registered && registered.IsService(typeof(ITransport)))
        {
            _processSession = new Lazy<Session>(() => Start(null));
        }
    }

    /// <summary>The tools as declared to clients (names, descriptions, schemas); never invoked.</summary>
    public IList<AITool> Declarations { get; }

    /// <summary>The conversation of the calling session; dispose the lease when the call is over.</summary>
    public SessionLease Acquire(McpServer server)
    {
        if (server.SessionId is { } sessionId)
        {
            return new SessionLease(_sessions.GetOrAdd(sessionId, id => new Lazy<Session>(() => Start(id))).Value, null);
        }

        if (_processSession is not null)
        {
            return new SessionLease(_processSession.Value, null);
        }

        // No session to keep state in: the call gets a conversation of its own, released afterwards.
        Session single = Start(null);
        return new SessionLease(single, () => ReleaseAsync(single));
    }

    /// <summary>Deletes the box of the session <paramref name="sessionId"/>, if it ever had one.</summary>
    public async ValueTask ReleaseAsync(string? sessionId)
    {
        if (sessionId is not null && _sessions.TryRemove(sessionId, out Lazy<Session>? session) && session.IsValueCreated)
        {
            await ReleaseAsync(session.Value).ConfigureAwait(false);
        }
    }

    private async ValueTask ReleaseAsync(Session session)
    {
        LogSessionEnded(_logger, session.ConversationId);
        await _factory.Pool.ReleaseConversationAsync(session.ConversationId).ConfigureAwait(false);
    }

    private Session Start(string? sessionId)
    {
        var session = new Session("mcp-" + Guid.NewGuid().ToString("N"), _factory);
        LogSessionStarted(_logger, session.ConversationId, sessionId);
        return session;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "MCP session {McpSessionId} uses conversation {ConversationId}")]
    private static partial void LogSessionStarted(ILogger logger, string conversationId, string? mcpSessionId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Conversation {ConversationId} released")]
    private static partial void LogSessionEnded(ILogger logger, string conversationId);

    /// <summary>A session's conversation and its tool set.</summary>
    internal sealed class Session(string conversationId, SandboxToolFactory factory)
    {
        public string ConversationId { get; } = conversationId;

        public IList<AITool> Tools { get; } = factory.CreateTools(conversationId);

        public AIFunction Get(string name) => Tools.OfType<AIFunction>().Single(t => t.Name == name);
    }

    /// <summary>The session of one call; releases a per-call conversation on dispose.</summary>
    internal readonly struct SessionLease(Session session, Func<ValueTask>? release) : IAsyncDisposable
    {
        public Session Session { get; } = session;

        public ValueTask DisposeAsync() => release?.Invoke() ?? ValueTask.CompletedTask;
    }
}
