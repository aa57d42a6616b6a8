using System.CommandLine;

namespace Sandbox.Cli.Infrastructure;

/// <summary>Options accepted by every command (before or after the command name).</summary>
internal static class GlobalOptions
{
    public static readonly Option<string> Format = new Option<string>("--format")
    {
        Description = "Output format: json (default) or pretty (tables)",
        Recursive = true,
        DefaultValueFactory = _ => "json",
        HelpName = "json|pretty",
    }.AcceptOnlyFromAmong("json", "pretty");

    public static readonly Option<string?> Endpoint = new("--endpoint")
    {
        Description = "LangSmith API URL, e.g. http://127.0.0.1:8787 for the local server (default: LANGSMITH_ENDPOINT, else https://api.smith.langchain.com)",
        Recursive = true,
        HelpName = "url",
    };

    public static readonly Option<string?> ApiKey = new("--api-key")
    {
        Description = "API key (default: LANGSMITH_API_KEY). Prefer the environment variable: a flag is visible in the process list",
        Recursive = true,
        HelpName = "key",
    };
}
