using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Client;
using Sandbox.Client;
using Sandbox.Tests.Common;

namespace Sandbox.AgentTools.Mcp.Tests;

/// <summary>
/// The embedded local sandbox server and, in front of it, an MCP server with the sandbox tools over Streamable HTTP
/// (stateful sessions) on a loopback port; clients are the MCP C# SDK's <see cref="McpClient"/>.
/// </summary>
public sealed class McpServerFixture : EmbeddedServerFixture
{
    private KestrelTestHost _mcp = null!;

    public Uri McpEndpoint { get; private set; } = null!;

    public SandboxLeasePool Pool => _mcp.Services.GetRequiredService<SandboxLeasePool>();

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        _mcp = await StartMcpServerAsync(Client, requireApproval: false);
        McpEndpoint = McpEndpointOf(_mcp);
    }

    /// <summary>An MCP server over <paramref name="client"/>; the caller disposes it.</summary>
    public static Task<KestrelTestHost> StartMcpServerAsync(SandboxClient client, bool requireApproval) =>
        KestrelTestHost.StartAsync(app => app.MapMcp("/mcp"), builder =>
        {
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
        });

    public static Uri McpEndpointOf(KestrelTestHost host) => new(host.Url + "/mcp");

    public static Task<McpClient> ConnectAsync(Uri endpoint, McpClientOptions? options = null) =>
        McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp }), options);

    public Task<McpClient> ConnectAsync(McpClientOptions? options = null) => ConnectAsync(McpEndpoint, options);

    public override async ValueTask DisposeAsync()
    {
        await _mcp.DisposeAsync();
        await base.DisposeAsync();
    }
}
