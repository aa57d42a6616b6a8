using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Sandbox.Cli.Infrastructure;
using Sandbox.Cli.Output;
using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.Cli.Commands;

/// <summary>
/// <c>sandbox tunnel NAME --remote-port P [--local-port L]</c> (or <c>--url DATAPLANE_URL</c>): a local TCP port that
/// forwards every connection, several at once, to a port inside the sandbox, until Ctrl+C. <c>--stdio</c> carries one
/// connection over stdin/stdout instead (an SSH <c>ProxyCommand</c>).
/// </summary>
internal static class TunnelCommand
{
    public static Command Build()
    {
        var name = new Argument<string?>("name") { Description = "Sandbox name (or use --url)", Arity = ArgumentArity.ZeroOrOne };
        var remote = new Option<int>("--remote-port") { Description = "Port inside the sandbox", Required = true };
        var local = new Option<int?>("--local-port") { Description = "Local port on 127.0.0.1 (default: the remote port)" };
        var url = new Option<string?>("--url") { Description = "The sandbox's data-plane URL (dataplane_url), instead of its name" };
        var stdio = new Option<bool>("--stdio") { Description = "Carry one connection over stdin/stdout (for an SSH ProxyCommand)" };
        var command = new Command("tunnel", "Forward a local TCP port to a port inside a sandbox") { name, remote, local, url, stdio };
        CliApp.Handle(command, async ctx =>
        {
            int remotePort = ctx.Get(remote);
            if (remotePort is < 1 or > 65535)
            {
                throw new CliException("--remote-port must be between 1 and 65535", 2);
            }

            if (ctx.Get(local) is { } lp && (lp is < 1 or > 65535))
            {
                throw new CliException("--local-port must be between 1 and 65535", 2);
            }

            var box = await ResolveAsync(ctx, ctx.Get(name), ctx.Get(url)).ConfigureAwait(false);
            if (ctx.Get(stdio))
            {
                if (ctx.Get(local) is not null)
                {
                    throw new CliException("--stdio and --local-port cannot be combined", 2);
                }

                return await StdioAsync(box, remotePort, ctx.Interrupt).ConfigureAwait(false);
            }

            await using var tunnel = await box.OpenTunnelAsync(remotePort, ctx.Get(local) ?? remotePort, ctx.Interrupt).ConfigureAwait(false);
            ctx.Output.Object(new JsonObject
            {
                ["sandbox"] = box.Name,
                ["local_address"] = $"127.0.0.1:{tunnel.LocalPort}",
                ["local_port"] = tunnel.LocalPort,
                ["remote_port"] = tunnel.RemotePort,
            });
            OutputWriter.Note($"Forwarding 127.0.0.1:{tunnel.LocalPort} -> {box.Name}:{tunnel.RemotePort}. Press Ctrl+C to stop.");
            try
            {
                await Task.Delay(Timeout.Infinite, ctx.Interrupt).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            OutputWriter.Note("Tunnel closed.");
            return 0;
        });
        return command;
    }

    public static async Task<SandboxInstance> ResolveAsync(CliContext ctx, string? name, string? url)
    {
        if ((name is null) == (url is null))
        {
            throw new CliException("give either a sandbox name or --url, not both and not neither", 2);
        }

        if (url is null)
        {
            return await ctx.Client.GetSandboxAsync(name!, ctx.Interrupt).ConfigureAwait(false);
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
        {
            throw new CliException($"--url must be the sandbox's http(s) data-plane URL, got '{url}'", 2);
        }

        // No lookup: the data-plane URL is enough to dial the tunnel endpoint (the API key authenticates it).
        return ctx.Client.GetSandbox(new SandboxInfo { Name = parsed.Segments.LastOrDefault()?.Trim('/') ?? url, DataplaneUrl = url, Status = "ready" });
    }

    private static async Task<int> StdioAsync(SandboxInstance box, int remotePort, CancellationToken interrupt)
    {
        await using var tunnel = await OpenOnFreePortAsync(box, remotePort, interrupt).ConfigureAwait(false);
        await using var stream = await tunnel.OpenStreamAsync(interrupt).ConfigureAwait(false);
        using var stdin = Console.OpenStandardInput();
        using var stdout = Console.OpenStandardOutput();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(interrupt);
        var up = Task.Run(async () =>
        {
            await CopyAsync(stdin, stream, done.Token).ConfigureAwait(false);
            await stream.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }, CancellationToken.None);
        var down = Task.Run(() => CopyAsync(stream, stdout, done.Token), CancellationToken.None);
        await Task.WhenAny(up, down).ConfigureAwait(false);
        await down.WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        await done.CancelAsync().ConfigureAwait(false);
        return 0;
    }

    private static async Task CopyAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[32 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                await to.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SandboxException)
        {
        }
    }

    /// <summary>The tunnel API always binds a local listener; for <c>--stdio</c> it is an unused free port, not the remote number.</summary>
    public static async Task<SandboxTunnel> OpenOnFreePortAsync(SandboxInstance box, int remotePort, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            try
            {
                return await box.OpenTunnelAsync(remotePort, port, cancellationToken).ConfigureAwait(false);
            }
            catch (TunnelException) when (attempt < 3)
            {
                // Someone took the port in between: try another.
            }
        }
    }
}
