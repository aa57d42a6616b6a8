using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace Sandbox.AgentTools.Mcp.Sessions;

/// <summary>Wraps the HTTP transport's session runner so a session's conversation is released when the session ends.</summary>
internal sealed class ReleaseConversationOnSessionEnd(SandboxMcpSessions sessions) : IPostConfigureOptions<HttpServerTransportOptions>
{
    public void PostConfigure(string? name, HttpServerTransportOptions options)
    {
#pragma warning disable MCPEXP002 // RunSessionHandler is experimental; it is the one hook that sees a session end.
        Func<Microsoft.AspNetCore.Http.HttpContext, McpServer, CancellationToken, Task>? inner = options.RunSessionHandler;
        options.RunSessionHandler = async (context, server, cancellationToken) =>
        {
            try
            {
                if (inner is not null)
                {
                    await inner(context, server, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await server.RunAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                await sessions.ReleaseAsync(server.SessionId).ConfigureAwait(false);
            }
        };
#pragma warning restore MCPEXP002
    }
}
