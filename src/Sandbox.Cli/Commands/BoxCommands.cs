using System.CommandLine;
using System.Text.Json.Nodes;
using Sandbox.Cli.Infrastructure;
using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox create|list|get|update|wait|start|stop|delete</c>.</summary>
internal static class BoxCommands
{
    public static Argument<string> NameArgument() => new("name") { Description = "Sandbox name" };

    private static Option<string?> ProxyConfigOption() => new("--proxy-config")
    {
        Description = "Proxy configuration: @file.json, or inline JSON",
        HelpName = "@file.json",
    };

    public static Command Create()
    {
        var name = NameArgument();
        var snapshotId = new Option<string?>("--snapshot-id") { Description = "Snapshot to boot from (default: the server's default runtime)" };
        var snapshotName = new Option<string?>("--snapshot-name") { Description = "Snapshot to boot from, by name" };
        var vcpus = new Option<int?>("--vcpus") { Description = "Number of vCPUs" };
        var memory = new Option<string?>("--memory") { Description = "Memory limit, e.g. 1gb" };
        var rootfs = new Option<string?>("--rootfs-capacity") { Description = "Root filesystem capacity, e.g. 8gb" };
        var proxy = ProxyConfigOption();
        var wait = new Option<bool>("--wait") { Description = "Wait until the sandbox is ready" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait with --wait (default 120)", DefaultValueFactory = _ => 120 };
        var command = new Command("create", "Create a sandbox") { name, snapshotId, snapshotName, vcpus, memory, rootfs, proxy, wait, timeout };
        CliApp.Handle(command, async ctx =>
        {
            var options = new CreateSandboxOptions
            {
                Name = ctx.Get(name),
                SnapshotId = ctx.Get(snapshotId),
                SnapshotName = ctx.Get(snapshotName),
                Vcpus = ctx.Get(vcpus),
                MemBytes = ctx.Get(memory) is { } m ? Sizes.Parse(m, "--memory") : null,
                FsCapacityBytes = ctx.Get(rootfs) is { } r ? Sizes.Parse(r, "--rootfs-capacity") : null,
                ProxyConfig = ctx.Get(proxy) is { } p ? Inputs.ProxyConfig(p) : null,
                WaitForReady = ctx.Get(wait),
                Timeout = Inputs.Seconds(ctx.Get(timeout)),
            };
            var box = await ctx.Client.CreateSandboxAsync(options, ctx.Interrupt).ConfigureAwait(false);
            ctx.Output.Sandbox(box.Info);
            return 0;
        });
        return command;
    }

    public static Command List()
    {
        var command = new Command("list", "List sandboxes");
        CliApp.Handle(command, async ctx =>
        {
            ctx.Output.Sandboxes(await ctx.Client.ListSandboxesAsync(ctx.Interrupt).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    public static Command Get()
    {
        var name = NameArgument();
        var command = new Command("get", "Inspect a sandbox") { name };
        CliApp.Handle(command, async ctx =>
        {
            ctx.Output.Sandbox((await ctx.Client.GetSandboxAsync(ctx.Get(name), ctx.Interrupt).ConfigureAwait(false)).Info);
            return 0;
        });
        return command;
    }

    public static Command Update()
    {
        var name = NameArgument();
        var vcpus = new Option<int?>("--vcpus") { Description = "New number of vCPUs (applies at the next start)" };
        var memory = new Option<string?>("--memory") { Description = "New memory limit, e.g. 2gb (applies at the next start)" };
        var proxy = ProxyConfigOption();
        var command = new Command("update", "Update a sandbox's resources or proxy configuration") { name, vcpus, memory, proxy };
        CliApp.Handle(command, async ctx =>
        {
            var options = new UpdateSandboxOptions
            {
                Vcpus = ctx.Get(vcpus),
                MemBytes = ctx.Get(memory) is { } m ? Sizes.Parse(m, "--memory") : null,
                ProxyConfig = ctx.Get(proxy) is { } p ? Inputs.ProxyConfig(p) : null,
            };
            if (options.Vcpus is null && options.MemBytes is null && options.ProxyConfig is null)
            {
                throw new CliException("nothing to update: pass --vcpus, --memory or --proxy-config", 2);
            }

            ctx.Output.Sandbox(await ctx.Client.UpdateSandboxAsync(ctx.Get(name), options, ctx.Interrupt).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    public static Command Wait()
    {
        var name = NameArgument();
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait (default 120)", DefaultValueFactory = _ => 120 };
        var command = new Command("wait", "Wait for a sandbox to become ready") { name, timeout };
        CliApp.Handle(command, async ctx =>
        {
            ctx.Output.Sandbox(await ctx.Client.WaitForSandboxAsync(ctx.Get(name), Inputs.Seconds(ctx.Get(timeout)), null, ctx.Interrupt).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    public static Command Start()
    {
        var name = NameArgument();
        var wait = new Option<bool>("--wait") { Description = "Wait until the sandbox is ready" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait with --wait (default 120)", DefaultValueFactory = _ => 120 };
        var command = new Command("start", "Start a stopped sandbox") { name, wait, timeout };
        CliApp.Handle(command, async ctx =>
        {
            string box = ctx.Get(name);
            SandboxInfo info;
            try
            {
                info = await ctx.Client.StartSandboxAsync(box, ctx.Get(wait) ? Inputs.Seconds(ctx.Get(timeout)) : TimeSpan.Zero, ctx.Interrupt).ConfigureAwait(false);
            }
            catch (ResourceTimeoutException) when (!ctx.Get(wait))
            {
                // Started, not ready yet: without --wait that is the answer.
                info = (await ctx.Client.GetSandboxAsync(box, ctx.Interrupt).ConfigureAwait(false)).Info;
            }

            ctx.Output.Sandbox(info);
            return 0;
        });
        return command;
    }

    public static Command Stop()
    {
        var name = NameArgument();
        var command = new Command("stop", "Stop a sandbox, keeping its filesystem") { name };
        CliApp.Handle(command, async ctx =>
        {
            await ctx.Client.StopSandboxAsync(ctx.Get(name), ctx.Interrupt).ConfigureAwait(false);
            ctx.Output.Sandbox((await ctx.Client.GetSandboxAsync(ctx.Get(name), ctx.Interrupt).ConfigureAwait(false)).Info);
            return 0;
        });
        return command;
    }

    public static Command Delete()
    {
        var name = NameArgument();
        var command = new Command("delete", "Delete a sandbox") { name };
        CliApp.Handle(command, async ctx =>
        {
            await ctx.Client.DeleteSandboxAsync(ctx.Get(name), ctx.Interrupt).ConfigureAwait(false);
            ctx.Output.Object(new JsonObject { ["deleted"] = ctx.Get(name) });
            return 0;
        });
        return command;
    }
}
