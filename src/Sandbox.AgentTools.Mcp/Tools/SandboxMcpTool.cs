using System.Text.Json;
using Microsoft.Extensions.AI;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Sandbox.AgentTools.Mcp.Sessions;

namespace Sandbox.AgentTools.Mcp.Tools;

/// <summary>One sandbox tool over MCP: the call runs in the calling session's conversation.</summary>
internal sealed class SandboxMcpTool : McpServerTool
{
    private readonly string _name;
    private readonly SandboxMcpSessions _sessions;

    public SandboxMcpTool(string name, SandboxMcpSessions sessions)
    {
        _name = name;
        _sessions = sessions;
        AIFunction declaration = sessions.Declarations.OfType<AIFunction>().Single(t => t.Name == name);
        ProtocolTool = new Tool
        {
            Name = name,
            Description = declaration.Description,
            InputSchema = declaration.JsonSchema,
            Annotations = Annotate(name),
        };
    }

    public override Tool ProtocolTool { get; }

    public override IReadOnlyList<object> Metadata => [];

    public override async ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using SandboxMcpSessions.SessionLease session = _sessions.Acquire(request.Server);
        AIFunction function = session.Session.Get(_name);
        var arguments = new AIFunctionArguments
        {
            Services = request.Services,
            // MCP has no tool-call id of its own; the JSON-RPC request id names the call within the session.
            Context = new Dictionary<object, object?> { [SandboxTools.ToolCallIdKey] = "mcp-" + request.JsonRpcRequest.Id.ToString() },
        };
        foreach (KeyValuePair<string, JsonElement> argument in request.Params?.Arguments ?? new Dictionary<string, JsonElement>())
        {
            arguments[argument.Key] = argument.Value;
        }

        if (function.GetService(typeof(ApprovalRequiredAIFunction)) is not null
            && await ExposePortApproval.AskAsync(request.Server, arguments, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            return refusal;
        }

        object? result = await function.InvokeAsync(arguments, cancellationToken).ConfigureAwait(false);
        return McpToolResults.From(result);
    }

    private static ToolAnnotations Annotate(string name) => name switch
    {
        "run_code" => new ToolAnnotations { Title = "Run code in the sandbox", ReadOnlyHint = false, DestructiveHint = true, IdempotentHint = false, OpenWorldHint = false },
        "write_file" => new ToolAnnotations { Title = "Write a file in the sandbox", ReadOnlyHint = false, DestructiveHint = true, IdempotentHint = true, OpenWorldHint = false },
        "read_file" => new ToolAnnotations { Title = "Read a file from the sandbox", ReadOnlyHint = true, OpenWorldHint = false },
        "list_files" => new ToolAnnotations { Title = "List files in the sandbox", ReadOnlyHint = true, OpenWorldHint = false },
        "expose_port" => new ToolAnnotations { Title = "Publish a port of the sandbox at a URL", ReadOnlyHint = false, DestructiveHint = false, IdempotentHint = true, OpenWorldHint = true },
        _ => new ToolAnnotations(),
    };
}
