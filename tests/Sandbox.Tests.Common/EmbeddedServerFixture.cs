using Microsoft.Extensions.Logging;
using Sandbox.Client;
using Sandbox.Server;
using Xunit;

namespace Sandbox.Tests.Common;

/// <summary>
/// The embedded local server (<see cref="LocalSandboxServer"/> on real Kestrel, loopback) with a client and an
/// <see cref="HttpClient"/> that sends the API key. Test projects derive from it to add their own helpers; set
/// <c>SANDBOX_TEST_LOG=/path</c> to log every server message there.
/// </summary>
public class EmbeddedServerFixture : IAsyncLifetime
{
    public LocalSandboxServer Server { get; private set; } = null!;

    public SandboxClient Client { get; private set; } = null!;

    /// <summary>Raw HTTP to the server's LangSmith endpoint, with the API key.</summary>
    public HttpClient Http { get; private set; } = null!;

    public virtual async ValueTask InitializeAsync()
    {
        Server = await LocalSandboxServer.StartAsync(CreateOptions(TestLog.CreateLoggerFactory()));
        Http = new HttpClient { BaseAddress = Server.LangSmithEndpoint, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Add("X-Api-Key", Server.ApiKey);
        Client = Server.CreateClient();
    }

    public virtual async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Http.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>The server's options; override to change them (keep <paramref name="loggerFactory"/>).</summary>
    protected virtual LocalSandboxServerOptions CreateOptions(ILoggerFactory? loggerFactory) => new() { LoggerFactory = loggerFactory };
}

/// <summary>The opt-in test log: <c>SANDBOX_TEST_LOG=/path</c> writes every message of a server started in a test there.</summary>
public static class TestLog
{
    public static ILoggerFactory? CreateLoggerFactory() =>
        Environment.GetEnvironmentVariable("SANDBOX_TEST_LOG") is { Length: > 0 } path
            ? LoggerFactory.Create(b => b.AddProvider(new FileLoggerProvider(path)).SetMinimumLevel(LogLevel.Debug))
            : null;
}
