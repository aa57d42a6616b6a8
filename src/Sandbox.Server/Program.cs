using System.CommandLine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Sandbox.Server.Runtime;

namespace Sandbox.Server;

/// <summary>Standalone entry point: <c>dotnet run --project src/Sandbox.Server -- --urls http://127.0.0.1:8787 [--data-dir DIR]</c>.</summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var urls = new Option<string>("--urls") { Description = "Address(es) to listen on, e.g. http://127.0.0.1:8787", DefaultValueFactory = _ => "http://127.0.0.1:8787" };
        var dataDir = new Option<string?>("--data-dir") { Description = "State folder (default: $XDG_DATA_HOME/sandbox-server or ~/.local/share/sandbox-server)" };
        var prepare = new Option<bool>("--prepare-default-snapshot") { Description = "Build (or find) the machine-wide cached Debian root filesystem of the default snapshot, print its path and exit" };
        var root = new RootCommand("Local LangSmith-compatible sandbox server with Linux namespace isolation (bubblewrap). API key: SANDBOX_SERVER_API_KEY (generated when unset).")
        {
            urls,
            dataDir,
            prepare,
        };
        root.SetAction((result, ct) => result.GetValue(prepare) ? PrepareDefaultSnapshotAsync(ct) : RunAsync(result.GetValue(urls)!, result.GetValue(dataDir), ct));
        return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
    }

    private static async Task<int> PrepareDefaultSnapshotAsync(CancellationToken cancellationToken)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            string rootfs = await Snapshots.Default.DebianRootfs.EnsureAsync(Snapshots.Default.DebianRootfs.DefaultCacheRoot(), Console.Error.WriteLine, cancellationToken).ConfigureAwait(false);
            await Console.Out.WriteLineAsync($"{rootfs} ({watch.Elapsed.TotalSeconds:0.0} s)").ConfigureAwait(false);
            return 0;
        }
        catch (Snapshots.SnapshotImportException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 1;
        }
    }

    private static async Task<int> RunAsync(string urls, string? dataDir, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls.Split(';', StringSplitOptions.RemoveEmptyEntries));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, LargeBlockMemoryPoolFactory>();
        builder.Services.AddSandboxServer(builder.Configuration, o =>
        {
            builder.Configuration.GetSection("SandboxServer").Bind(o);
            if (dataDir is not null)
            {
                o.DataDirectory = dataDir;
            }
        });
        var app = builder.Build();
        app.UseSandboxServer();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var state = app.Services.GetRequiredService<ServerState>();
        var host = app.Services.GetRequiredService<HostCapabilities>();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        var output = Console.Out;
        await output.WriteLineAsync($"Sandbox server listening on {address}").ConfigureAwait(false);
        await output.WriteLineAsync($"  sandbox API endpoint: {address}/v2/sandboxes   (also {address}/api/v2/sandboxes)").ConfigureAwait(false);
        await output.WriteLineAsync($"  data directory:       {state.Data.Root}").ConfigureAwait(false);
        await output.WriteLineAsync("Point the official SDKs at it with:").ConfigureAwait(false);
        await output.WriteLineAsync($"  LANGSMITH_ENDPOINT={address}").ConfigureAwait(false);
        // A generated key is printed so the operator can use it; a key the operator supplied is never echoed.
        bool keyWasConfigured = string.Equals(Environment.GetEnvironmentVariable("SANDBOX_SERVER_API_KEY"), state.ApiKey, StringComparison.Ordinal);
        await output.WriteLineAsync(keyWasConfigured
            ? "  LANGSMITH_API_KEY=\"$SANDBOX_SERVER_API_KEY\"   (the key you configured; not echoed)"
            : $"  LANGSMITH_API_KEY={state.ApiKey}   (generated; set SANDBOX_SERVER_API_KEY to choose one)").ConfigureAwait(false);
        await output.WriteLineAsync($"Limits: {host.Describe()}").ConfigureAwait(false);
        if (host.IsolationUnavailableReason is { } reason)
        {
            await output.WriteLineAsync($"WARNING: sandboxes cannot start here: {reason}").ConfigureAwait(false);
        }

        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        // Stops every box and finishes the teardowns of deleted boxes (what a killed server leaves, the next start removes).
        await app.DisposeAsync().ConfigureAwait(false);
        return 0;
    }
}
