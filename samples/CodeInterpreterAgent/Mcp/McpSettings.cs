namespace CodeInterpreterAgent.Mcp;

/// <summary>Settings of the <c>mcp</c> command.</summary>
internal sealed record McpSettings
{
    /// <summary>Where Streamable HTTP listens (<c>--http</c>); null serves MCP over stdio.</summary>
    public Uri? HttpUrl { get; init; }

    /// <summary><c>expose_port</c> asks the user (MCP elicitation) before publishing a port (<c>--require-approval</c>).</summary>
    public bool RequireApproval { get; init; }

    /// <summary>Boxes the server owns at most, one per active MCP session (<c>--max-boxes</c>).</summary>
    public int MaxBoxes { get; init; } = 8;

    /// <summary>A session idle this long loses its box (<c>--idle-minutes</c>).</summary>
    public TimeSpan ConversationIdleTimeout { get; init; } = TimeSpan.FromMinutes(30);
}
