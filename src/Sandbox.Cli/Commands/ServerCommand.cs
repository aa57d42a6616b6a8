using System.CommandLine;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Configuration;
using Sandbox.Cli.Infrastructure;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox server [--urls URLS] [--data-dir DIR]</c>: runs the local sandbox server in the foreground until Ctrl+C.</summary>
internal static class ServerCommand
{
    public static Command Build()
    {
        var urls = new Option<string>("--urls") { Description = "Address(es) to listen on, ';'-separated (default http://127.0.0.1:8787)", DefaultValueFactory = _ => "http://127.0.0.1:8787" };
        var dataDir = new Option<string?>("--data-dir") { Description = "State folder (default: $XDG_DATA_HOME/sandbox-server or ~/.local/share/sandbox-server)" };
        var command = new Command("server", "Run the local sandbox server (Linux, as root) in the foreground") { urls, dataDir };
        CliApp.Handle(command, async ctx =>
        {
            string data = ctx.Get(dataDir) ?? DefaultDataDirectory();
            string? configuredKey = Environment.GetEnvironmentVariable("SANDBOX_SERVER_API_KEY");
            string key = string.IsNullOrEmpty(configuredKey)
                ? "lsv2_local_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))
                : configuredKey;
            CliErrors.AddSecret(configuredKey);

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("Microsoft.Hosting", LogLevel.Warning);
            builder.WebHost.UseUrls(ctx.Get(urls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
            builder.Services.AddSandboxServer(builder.Configuration, o =>
            {
                builder.Configuration.GetSection("SandboxServer").Bind(o);
                o.DataDirectory = data;
                o.ApiKey = key;
            });
            await using var app = builder.Build();
            app.UseSandboxServer();
            await app.StartAsync(ctx.Interrupt).ConfigureAwait(false);
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
            var output = Console.Out;
            await output.WriteLineAsync($"Sandbox server listening on {address}").ConfigureAwait(false);
            await output.WriteLineAsync($"  data directory: {data}").ConfigureAwait(false);
            await output.WriteLineAsync("Use it with:").ConfigureAwait(false);
            await output.WriteLineAsync($"  export LANGSMITH_ENDPOINT={address}").ConfigureAwait(false);
            await output.WriteLineAsync(string.IsNullOrEmpty(configuredKey)
                ? $"  export LANGSMITH_API_KEY={key}   (generated; set SANDBOX_SERVER_API_KEY to choose one)"
                : "  export LANGSMITH_API_KEY=\"$SANDBOX_SERVER_API_KEY\"   (the key you configured; not echoed)").ConfigureAwait(false);
            await output.WriteLineAsync("Press Ctrl+C to stop.").ConfigureAwait(false);
            await output.FlushAsync().ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, ctx.Interrupt).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await output.WriteLineAsync("Sandbox server stopped.").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static string DefaultDataDirectory()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share")
            : xdg;
        return Path.Combine(root, "sandbox-server");
    }
}
