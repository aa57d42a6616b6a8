using System.CommandLine;
using CodeInterpreterAgent.Hosting;

namespace CodeInterpreterAgent.Mcp;

/// <summary>The <c>mcp</c> command: serve the sandbox tools to an MCP client instead of running the agent.</summary>
internal static class McpCommand
{
    public static Command Create(Option<string?> endpoint, Option<string?> apiKey, Option<bool> hosted, Func<string, string?> env, TextWriter output)
    {
        var http = new Option<string?>("--http") { Description = "Serve Streamable HTTP at this loopback URL (e.g. http://127.0.0.1:3001; the endpoint is /mcp) instead of stdio." };
        var requireApproval = new Option<bool>("--require-approval") { Description = "expose_port asks the user (MCP elicitation) before publishing a port." };
        var maxBoxes = new Option<int>("--max-boxes") { Description = "Boxes at most, one per active MCP session.", DefaultValueFactory = _ => 8 };
        var idleMinutes = new Option<int>("--idle-minutes") { Description = "A session idle this long loses its box.", DefaultValueFactory = _ => 30 };
        var command = new Command("mcp", "Serve run_code, write_file, read_file, list_files and expose_port as an MCP server (stdio by default); each MCP session gets its own box.")
        {
            http, requireApproval, maxBoxes, idleMinutes,
        };
        command.SetAction(async (parse, ct) =>
        {
            string? httpText = parse.GetValue(http);
            // In stdio mode stdout is the protocol channel: everything for people goes to stderr.
            TextWriter log = httpText is null && ReferenceEquals(output, Console.Out) ? Console.Error : output;
            if (!Program.TryGetSandboxEndpoint(parse.GetValue(endpoint), env, out Uri? sandboxEndpoint, out string? endpointError))
            {
                await log.WriteLineAsync("error: " + endpointError);
                return 2;
            }

            Uri? httpUrl = null;
            if (httpText is not null && (!Uri.TryCreate(httpText, UriKind.Absolute, out httpUrl) || httpUrl.Scheme != "http"))
            {
                await log.WriteLineAsync($"error: --http must be an http:// URL such as http://127.0.0.1:3001, not '{httpText}'");
                return 2;
            }

            var settings = new McpSettings
            {
                HttpUrl = httpUrl,
                RequireApproval = parse.GetValue(requireApproval),
                MaxBoxes = Math.Max(1, parse.GetValue(maxBoxes)),
                ConversationIdleTimeout = TimeSpan.FromMinutes(Math.Max(1, parse.GetValue(idleMinutes))),
            };
            SandboxBackend backend;
            try
            {
                backend = await SandboxBackend.StartAsync(sandboxEndpoint, parse.GetValue(apiKey) ?? Program.NullIfEmpty(env("SANDBOX_API_KEY")), parse.GetValue(hosted), ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await log.WriteLineAsync($"error: could not reach the sandboxes: {ex.Message}");
                return 2;
            }

            await using (backend)
            {
                try
                {
                    return await McpServerHost.RunAsync(settings, backend, log, ct);
                }
                catch (ArgumentException ex)
                {
                    await log.WriteLineAsync("error: " + ex.Message);
                    return 2;
                }
            }
        });
        return command;
    }
}
