using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;
using Sandbox.AgentTools;
using Sandbox.AgentTools.Mcp.Sessions;
using Sandbox.AgentTools.Mcp.Tools;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the sandbox tools to an MCP server (<see cref="IMcpServerBuilder"/>).</summary>
public static class SandboxMcpServerBuilderExtensions
{
    /// <summary>
    /// Serves <c>run_code</c>, <c>write_file</c>, <c>read_file</c>, <c>list_files</c> and <c>expose_port</c> over MCP,
    /// each MCP session in its own conversation (its own box).
    /// </summary>
    /// <param name="builder">The MCP server builder (<c>services.AddMcpServer()</c>).</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// <para>Needs <see cref="SandboxAgentToolsServiceCollectionExtensions.AddSandboxAgentTools"/> (the pool and the
    /// <see cref="SandboxToolFactory"/>). Every MCP session gets a fresh conversation id the first time it calls a tool;
    /// all its calls run in that conversation's box, which no other session ever gets. A stdio server has one session
    /// (the process); over Streamable HTTP use <see cref="HttpServerSessionMode.Stateful"/>, where the conversation is
    /// released (its box deleted) when the session ends. In <see cref="HttpServerSessionMode.Stateless"/> mode every
    /// HTTP request is a session of its own, so each call runs in a fresh box that is deleted after the call: nothing
    /// is shared, and nothing persists between calls either.</para>
    /// <para>Images the tools return (plots, image files) are MCP <c>image</c> content blocks after the JSON text
    /// block; error records (<c>{"error", "error_type", "hint"}</c>) set <c>isError</c>. With
    /// <see cref="SandboxToolOptions.RequireApprovalForExposePort"/>, <c>expose_port</c> asks the user through MCP
    /// elicitation first and is refused when the client cannot ask or the user declines.</para>
    /// </remarks>
    public static IMcpServerBuilder WithSandboxTools(this IMcpServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<SandboxMcpSessions>();
        foreach (string name in SandboxTools.ToolNames)
        {
            builder.Services.AddSingleton<McpServerTool>(services => new SandboxMcpTool(name, services.GetRequiredService<SandboxMcpSessions>()));
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<HttpServerTransportOptions>, ReleaseConversationOnSessionEnd>());
        return builder;
    }
}
