using System.Text.Json;
using Microsoft.Extensions.AI;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Sandbox.AgentTools.Mcp.Tools;

/// <summary>Asks the MCP client's user, through elicitation, before <c>expose_port</c> publishes a port.</summary>
internal static class ExposePortApproval
{
    /// <summary>Null when the user approved; otherwise the refusal to return to the model.</summary>
    public static async Task<CallToolResult?> AskAsync(McpServer server, AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        string port = arguments.TryGetValue("port", out object? value) && value is JsonElement element ? element.GetRawText() : "?";
        if (server.ClientCapabilities?.Elicitation is null)
        {
            return McpToolResults.Error($"Publishing port {port} needs the user's approval, and this MCP client cannot ask for it (no elicitation support).",
                "approval_required", "Tell the user what you want to publish and why; the server must allow it without approval, or be used from a client that supports elicitation.");
        }

        ElicitResult answer = await server.ElicitAsync(new ElicitRequestParams
        {
            Message = $"The agent wants to publish port {port} of its sandbox at a URL reachable from outside the sandbox. Allow it?",
            RequestedSchema = new ElicitRequestParams.RequestSchema(),
        }, cancellationToken).ConfigureAwait(false);
        return answer.IsAccepted
            ? null
            : McpToolResults.Error($"The user did not approve publishing port {port} ({answer.Action}).", "approval_denied",
                "Do not retry; ask the user what they want instead.");
    }
}
