
namespace Sandbox.Server;

/// <summary>Options of an embedded <see cref="LocalSandboxServer"/>.</summary>
public sealed record LocalSandboxServerOptions
{
    /// <summary>State folder. Null: a new temporary folder, deleted when the server is disposed.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>API key clients must send. Null: a random key (see <see cref="LocalSandboxServer.ApiKey"/>).</summary>
    public string? ApiKey { get; init; }

    /// <summary>Loopback port to listen on; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>Logging for the server; null logs warnings and errors only to nowhere (silent).</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Clock for idle TTL and retention decisions; null = the system clock.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Test hook: replaces services before the server starts (e.g. a different <c>HostCapabilities</c>).</summary>
    internal Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>Further server settings (limits, defaults, buffer sizes).</summary>
    public Action<SandboxServerOptions>? Configure { get; init; }
}
