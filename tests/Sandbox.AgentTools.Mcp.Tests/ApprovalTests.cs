using System.Text.Json;
using Sandbox.Tests.Common;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static Sandbox.AgentTools.Mcp.Tests.McpToolResult;

namespace Sandbox.AgentTools.Mcp.Tests;

/// <summary>With <c>RequireApprovalForExposePort</c>, <c>expose_port</c> asks the client's user through MCP elicitation.</summary>
public sealed class ApprovalTests(McpServerFixture fixture) : IClassFixture<McpServerFixture>
{
    private const string StartServer = "cd /tmp && (setsid nohup python3 -m http.server 8000 >/dev/null 2>&1 &) ; for i in $(seq 50); do python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:8000/\")' 2>/dev/null && break; sleep 0.1; done; echo up";

    [Fact]
    public async Task ExposePort_UserDeclines_IsRefusedAndNothingIsPublished()
    {
        await using KestrelTestHost server = await McpServerFixture.StartMcpServerAsync(fixture.Client, requireApproval: true);
        var asked = new List<string>();
        await using McpClient client = await McpServerFixture.ConnectAsync(McpServerFixture.McpEndpointOf(server), WithElicitation(asked, "decline"));

        CallToolResult result = await client.CallToolAsync("expose_port", Args(("port", 8000)));

        Assert.True(result.IsError);
        Assert.Equal("approval_denied", Record(result).GetProperty("error_type").GetString());
        Assert.Contains("port 8000", Assert.Single(asked), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExposePort_UserAccepts_PublishesThePort()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using KestrelTestHost server = await McpServerFixture.StartMcpServerAsync(fixture.Client, requireApproval: true);
        var asked = new List<string>();
        await using McpClient client = await McpServerFixture.ConnectAsync(McpServerFixture.McpEndpointOf(server), WithElicitation(asked, "accept"));
        CallToolResult started = await client.CallToolAsync("run_code", Args(("language", "bash"), ("code", StartServer)), cancellationToken: timeout.Token);
        Assert.Equal("up", Stdout(started).Trim());

        CallToolResult result = await client.CallToolAsync("expose_port", Args(("port", 8000)), cancellationToken: timeout.Token);

        Assert.NotEqual(true, result.IsError);
        Assert.Single(asked);
        Assert.StartsWith("http", Record(result).GetProperty("browser_url").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExposePort_ClientWithoutElicitation_IsRefusedWithAHint()
    {
        await using KestrelTestHost server = await McpServerFixture.StartMcpServerAsync(fixture.Client, requireApproval: true);
        await using McpClient client = await McpServerFixture.ConnectAsync(McpServerFixture.McpEndpointOf(server));

        CallToolResult result = await client.CallToolAsync("expose_port", Args(("port", 8000)));

        Assert.True(result.IsError);
        JsonElement record = Record(result);
        Assert.Equal("approval_required", record.GetProperty("error_type").GetString());
        Assert.Contains("elicitation", record.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private static McpClientOptions WithElicitation(List<string> asked, string action) => new()
    {
        Handlers = new McpClientHandlers
        {
            ElicitationHandler = (request, _) =>
            {
                lock (asked)
                {
                    asked.Add(request?.Message ?? "");
                }

                return ValueTask.FromResult(new ElicitResult { Action = action });
            },
        },
    };
}
