using System.Net.Sockets;
using Sandbox.Client;

namespace Sandbox.Cli.Infrastructure;

/// <summary>Prints a failure as one plain line (never a stack trace, never the API key) and picks the exit code.</summary>
internal static class CliErrors
{
    /// <summary>Secrets known to this process (the API key); every error line is scrubbed of them.</summary>
    private static readonly List<string> Secrets = [];

    public static void AddSecret(string? secret)
    {
        if (!string.IsNullOrEmpty(secret))
        {
            lock (Secrets)
            {
                Secrets.Add(secret);
            }
        }
    }

    public static int Report(Exception error)
    {
        var (message, code) = Describe(error);
        Console.Error.WriteLine("error: " + Scrub(OneLine(message)));
        return code;
    }

    public static (string Message, int ExitCode) Describe(Exception error)
    {
        return error switch
        {
            CliException cli => (cli.Message, cli.ExitCode),
            OperationCanceledException => ("interrupted", 130),
            SandboxAuthenticationException e => ("authentication failed (check LANGSMITH_API_KEY or --api-key): " + e.Message, 1),
            ResourceNotFoundException e => (e.Message, 1),
            SandboxConnectionException e => ("cannot reach the sandbox server: " + e.Message, 1),
            SandboxException e => (e.Message, 1),
            HttpRequestException { InnerException: SocketException s } => ($"cannot reach the sandbox server: {s.Message}", 1),
            HttpRequestException e => ("request failed: " + e.Message, 1),
            TimeoutException e => ("timed out: " + e.Message, 1),
            UnauthorizedAccessException e => (e.Message, 1),
            IOException e => (e.Message, 1),
            System.Text.Json.JsonException e => ("invalid JSON: " + e.Message, 1),
            ArgumentException e => (e.Message, 2),
            _ => ($"{error.GetType().Name}: {error.Message}", 1),
        };
    }

    public static string Scrub(string text)
    {
        lock (Secrets)
        {
            foreach (var secret in Secrets)
            {
                text = text.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        return text;
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
