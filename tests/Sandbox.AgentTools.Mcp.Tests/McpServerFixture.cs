using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Client;
using Sandbox.Client;
using Sandbox.Server;

namespace Sandbox.AgentTools.Mcp.Tests;

/// <summary>
/// The embedded local sandbox server and, in front of it, an MCP server with the sandbox tools over Streamable HTTP
/// (stateful sessions) on a loopback port; clients are the MCP C# SDK's <see cref="McpClient"/>.
/// </summary>
public sealed class McpServerFixture : IAsyncLifetime
{
    private WebApplication _app = null!;

    public LocalSandboxServer Server { get; private set; } = null!;

    public SandboxClient Client { get; private set; } = null!;

    public Uri McpEndpoint { get; private set; } = null!;

    public SandboxLeasePool Pool => _app.Services.GetRequiredService<SandboxLeasePool>();

    public async Task InitializeAsync()
    {
        Server = await LocalSandboxServer.StartAsync(null, CancellationToken.None);
        Client = new SandboxClient(new SandboxClientOptions { Endpoint = Server.Endpoint, ApiKey = Server.ApiKey });
        _app = await StartMcpServerAsync(Client, requireApproval: false);
        McpEndpoint = new Uri(_app.Urls.First() + "/mcp");
    }

    /// <summary>An MCP server over <paramref name="client"/>; the caller disposes it.</summary>
    public static async Task<WebApplication> StartMcpServerAsync(SandboxClient client, bool requireApproval)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSingleton(client);
        builder.Services.AddSandboxAgentTools(
            tools => tools.RequireApprovalForExposePort = requireApproval,
            pool =>
            {
                pool.MinIdle = 0;
                pool.MaxBoxes = 8;
                pool.AcquireTimeout = TimeSpan.FromSeconds(60);
            });
        builder.Services.AddMcpServer()
            .WithHttpTransport(http => http.SessionMode = HttpServerSessionMode.Stateful)
            .WithSandboxTools();
        WebApplication app = builder.Build();
        app.MapMcp("/mcp");
        await app.StartAsync();
        return app;
    }

    public static Task<McpClient> ConnectAsync(Uri endpoint, McpClientOptions? options = null) =>
        McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp }), options);

    public Task<McpClient> ConnectAsync(McpClientOptions? options = null) => ConnectAsync(McpEndpoint, options);

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
