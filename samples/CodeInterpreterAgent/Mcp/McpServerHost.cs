using System.Net;
using CodeInterpreterAgent.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;
using Sandbox.Client;

namespace CodeInterpreterAgent.Mcp;

/// <summary>
/// The sandbox tools as an MCP server (<c>CodeInterpreterAgent mcp</c>): over stdio for a client that starts the
/// process, or over Streamable HTTP at <c>/mcp</c>. Each MCP session is its own conversation with its own box.
/// </summary>
internal static class McpServerHost
{
    public const string ServerName = "sandbox-agent-tools";

    /// <summary>Runs the server until stdin closes (stdio) or until <paramref name="cancellationToken"/> fires (HTTP).</summary>
    /// <param name="log">Human-readable status lines; stderr in stdio mode, where stdout carries the protocol.</param>
    public static async Task<int> RunAsync(McpSettings settings, SandboxBackend backend, TextWriter log, CancellationToken cancellationToken)
    {
        if (settings.HttpUrl is null)
        {
            HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            ConfigureLogging(builder.Logging);
            AddServices(builder.Services, backend.Client, settings).WithStdioServerTransport();
            using IHost host = builder.Build();
            await log.WriteLineAsync($"MCP server '{ServerName}' on stdio; sandboxes: {backend.Description}");
            await host.RunAsync(cancellationToken);
            return 0;
        }

        await using WebApplication app = await StartHttpAsync(settings, backend.Client, cancellationToken);
        await log.WriteLineAsync($"MCP server '{ServerName}' (Streamable HTTP) at {app.Urls.First()}/mcp; sandboxes: {backend.Description}");
        await log.WriteLineAsync("Stop with Ctrl+C.");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        await app.StopAsync(CancellationToken.None);
        return 0;
    }

    /// <summary>Starts the Streamable HTTP server (stateful sessions, MCP endpoint at <c>/mcp</c>) on <see cref="McpSettings.HttpUrl"/>.</summary>
    public static async Task<WebApplication> StartHttpAsync(McpSettings settings, SandboxClient client, CancellationToken cancellationToken)
    {
        Uri url = settings.HttpUrl ?? throw new ArgumentException("An HTTP URL is required.", nameof(settings));
        if (!IsLoopback(url))
        {
            throw new ArgumentException($"The MCP endpoint has no authentication of its own, so it listens on loopback only (127.0.0.1, [::1] or localhost), not on '{url.Host}'.");
        }

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        ConfigureLogging(builder.Logging);
        builder.WebHost.UseUrls(url.GetLeftPart(UriPartial.Authority));
        // Stateful: a session is a conversation, so state (files, interpreter variables) carries over between its calls.
        AddServices(builder.Services, client, settings).WithHttpTransport(http => http.SessionMode = HttpServerSessionMode.Stateful);
        WebApplication app = builder.Build();
        app.MapMcp("/mcp");
        try
        {
            await app.StartAsync(cancellationToken);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    private static IMcpServerBuilder AddServices(IServiceCollection services, SandboxClient client, McpSettings settings)
    {
        services.AddSingleton(client);
        services.AddSandboxAgentTools(
            tools => tools.RequireApprovalForExposePort = settings.RequireApproval,
            pool =>
            {
                pool.MinIdle = 0;
                pool.MaxBoxes = settings.MaxBoxes;
                pool.ConversationIdleTimeout = settings.ConversationIdleTimeout;
            });
        return services
            .AddMcpServer(options => options.ServerInfo = new Implementation { Name = ServerName, Version = typeof(McpServerHost).Assembly.GetName().Version?.ToString() ?? "1.0" })
            .WithSandboxTools();
    }

    // Logs go to stderr at Warning and above: stdout is the MCP channel in stdio mode.
    private static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }

    private static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out IPAddress? address) && IPAddress.IsLoopback(address));
}
