using System.CommandLine;
using Sandbox.Cli.Output;
using Sandbox.Client;

namespace Sandbox.Cli.Infrastructure;

/// <summary>What a command needs from the command line: the client (made on first use), the output writer and Ctrl+C.</summary>
internal sealed class CliContext : IDisposable
{
    private readonly ParseResult _parse;
    private SandboxClient? _client;

    public CliContext(ParseResult parse, CancellationToken interrupt)
    {
        _parse = parse;
        Interrupt = interrupt;
        Output = new OutputWriter(parse.GetValue(GlobalOptions.Format) == "pretty");
    }

    /// <summary>Cancelled on Ctrl+C or SIGTERM.</summary>
    public CancellationToken Interrupt { get; }

    public OutputWriter Output { get; }

    /// <summary>The <c>--endpoint</c> value as given, when given.</summary>
    public string? EndpointOption => _parse.GetValue(GlobalOptions.Endpoint);

    public SandboxClient Client => _client ??= CreateClient();

    public T Get<T>(Option<T> option) => _parse.GetValue(option)!;

    public T Get<T>(Argument<T> argument) => _parse.GetValue(argument)!;

    public bool Has(Option option) => _parse.GetResult(option) is { Implicit: false };

    public void Dispose() => _client?.Dispose();

    private SandboxClient CreateClient()
    {
        var options = SandboxClientOptions.FromEnvironment();
        if (_parse.GetValue(GlobalOptions.Endpoint) is { Length: > 0 } endpoint)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new CliException($"--endpoint must be an http(s) URL, got '{endpoint}'", 2);
            }

            // A LangSmith root (the usual form) or, as the library accepts, a full sandbox API base.
            if (uri.AbsolutePath.TrimEnd('/').EndsWith("/v2/sandboxes", StringComparison.Ordinal))
            {
                options.Endpoint = uri;
                options.LangSmithEndpoint = null;
            }
            else
            {
                options.Endpoint = null;
                options.LangSmithEndpoint = endpoint;
            }
        }

        if (_parse.GetValue(GlobalOptions.ApiKey) is { Length: > 0 } key)
        {
            options.ApiKey = key;
        }

        if (string.IsNullOrEmpty(options.ApiKey))
        {
            throw new CliException("no API key: set LANGSMITH_API_KEY or pass --api-key");
        }

        CliErrors.AddSecret(options.ApiKey);
        return new SandboxClient(options);
    }
}
