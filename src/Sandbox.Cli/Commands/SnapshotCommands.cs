using System.CommandLine;
using System.Text.Json.Nodes;
using Sandbox.Cli.Infrastructure;
using Sandbox.Cli.Output;
using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox snapshot build|capture|list|get|wait|delete</c>.</summary>
internal static class SnapshotCommands
{
    public static Command Build()
    {
        var snapshot = new Command("snapshot", "Build, capture, list, inspect, wait for and delete snapshots");
        snapshot.Subcommands.Add(BuildCommand());
        snapshot.Subcommands.Add(Capture());
        snapshot.Subcommands.Add(List());
        snapshot.Subcommands.Add(Get());
        snapshot.Subcommands.Add(WaitCommand());
        snapshot.Subcommands.Add(Delete());
        return snapshot;
    }

    private static Option<bool> WaitOption() => new("--wait") { Description = "Wait until the snapshot is ready (or failed)" };

    private static Option<int> TimeoutOption(int seconds) => new("--timeout")
    {
        Description = $"Seconds to wait (default {seconds})",
        DefaultValueFactory = _ => seconds,
    };

    private static Command BuildCommand()
    {
        var name = new Argument<string>("name") { Description = "Snapshot name" };
        var image = new Option<string>("--docker-image") { Description = "Image to build from (local server: an image archive path, or dir:/path of a root filesystem)", Required = true };
        var capacity = new Option<string>("--capacity") { Description = "Filesystem capacity, e.g. 4gb", Required = true };
        var registryId = new Option<string?>("--registry-id") { Description = "Id of a registry holding the credentials of a private image" };
        var registryUrl = new Option<string?>("--registry-url") { Description = "Private registry URL (a registry is created, or reused by URL, for these credentials)" };
        var registryUser = new Option<string?>("--registry-username") { Description = "Private registry user name" };
        var registryPassword = new Option<string?>("--registry-password") { Description = "Private registry password (prefer SANDBOX_REGISTRY_PASSWORD: a flag is visible in the process list)" };
        var wait = WaitOption();
        var timeout = TimeoutOption(600);
        var command = new Command("build", "Build a snapshot from a Docker image") { name, image, capacity, registryId, registryUrl, registryUser, registryPassword, wait, timeout };
        CliApp.Handle(command, async ctx =>
        {
            long bytes = Sizes.Parse(ctx.Get(capacity), "--capacity");
            string? registry = ctx.Get(registryId);
            string? url = ctx.Get(registryUrl);
            if (registry is not null && url is not null)
            {
                throw new CliException("use either --registry-id or --registry-url, not both", 2);
            }

            if (url is not null)
            {
                string? password = ctx.Get(registryPassword) ?? Environment.GetEnvironmentVariable("SANDBOX_REGISTRY_PASSWORD");
                CliErrors.AddSecret(password);
                registry = await EnsureRegistryAsync(ctx, url, ctx.Get(registryUser), password).ConfigureAwait(false);
            }
            else if (ctx.Get(registryUser) is not null || ctx.Get(registryPassword) is not null)
            {
                throw new CliException("--registry-username and --registry-password need --registry-url", 2);
            }

            string snapshotName = ctx.Get(name);
            var options = new CreateSnapshotOptions { RegistryId = registry, Timeout = WaitBudget(ctx, wait, timeout) };
            var info = await WaitOrReturnAsync(ctx, ctx.Get(wait), snapshotName,
                () => ctx.Client.CreateSnapshotAsync(snapshotName, ctx.Get(image), bytes, options, ctx.Interrupt)).ConfigureAwait(false);
            ctx.Output.Snapshot(info);
            return 0;
        });
        return command;
    }

    private static Command Capture()
    {
        var name = new Argument<string>("name") { Description = "Name of the new snapshot" };
        var box = new Option<string>("--box") { Description = "The sandbox to capture", Required = true };
        var wait = WaitOption();
        var timeout = TimeoutOption(600);
        var command = new Command("capture", "Capture a snapshot of a sandbox's filesystem") { name, box, wait, timeout };
        CliApp.Handle(command, async ctx =>
        {
            string snapshotName = ctx.Get(name);
            var options = new CaptureSnapshotOptions { Timeout = WaitBudget(ctx, wait, timeout) };
            var info = await WaitOrReturnAsync(ctx, ctx.Get(wait), snapshotName,
                () => ctx.Client.CaptureSnapshotAsync(ctx.Get(box), snapshotName, options, ctx.Interrupt)).ConfigureAwait(false);
            ctx.Output.Snapshot(info);
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var contains = new Option<string?>("--name-contains") { Description = "Only snapshots whose name contains this text" };
        var command = new Command("list", "List snapshots") { contains };
        CliApp.Handle(command, async ctx =>
        {
            var options = ctx.Get(contains) is { } text ? new ListSnapshotsOptions { NameContains = text } : null;
            ctx.Output.Snapshots(await ctx.Client.ListSnapshotsAsync(options, ctx.Interrupt).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Get()
    {
        var id = new Argument<string>("snapshot-id") { Description = "Snapshot id" };
        var command = new Command("get", "Inspect a snapshot") { id };
        CliApp.Handle(command, async ctx =>
        {
            ctx.Output.Snapshot(await ctx.Client.GetSnapshotAsync(ctx.Get(id), ctx.Interrupt).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command WaitCommand()
    {
        var id = new Argument<string>("snapshot-id") { Description = "Snapshot id" };
        var timeout = TimeoutOption(600);
        var command = new Command("wait", "Wait for a snapshot to become ready") { id, timeout };
        CliApp.Handle(command, async ctx =>
        {
            ctx.Output.Snapshot(await ctx.Client.WaitForSnapshotAsync(ctx.Get(id), Inputs.Seconds(ctx.Get(timeout)), null, ctx.Interrupt).ConfigureAwait(false));
            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var id = new Argument<string>("snapshot-id") { Description = "Snapshot id" };
        var command = new Command("delete", "Delete a snapshot") { id };
        CliApp.Handle(command, async ctx =>
        {
            await ctx.Client.DeleteSnapshotAsync(ctx.Get(id), ctx.Interrupt).ConfigureAwait(false);
            ctx.Output.Object(new JsonObject { ["deleted"] = ctx.Get(id) });
            return 0;
        });
        return command;
    }

    private static TimeSpan WaitBudget(CliContext ctx, Option<bool> wait, Option<int> timeout) =>
        ctx.Get(wait) ? Inputs.Seconds(ctx.Get(timeout)) : TimeSpan.Zero;

    /// <summary>
    /// The client always polls after a create; without <c>--wait</c> the budget is zero, so the snapshot comes back
    /// as it is now (building or ready) instead of a timeout.
    /// </summary>
    private static async Task<SnapshotInfo> WaitOrReturnAsync(CliContext ctx, bool wait, string name, Func<Task<SnapshotInfo>> create)
    {
        try
        {
            return await create().ConfigureAwait(false);
        }
        catch (ResourceTimeoutException) when (!wait)
        {
            var matches = await ctx.Client.ListSnapshotsAsync(new ListSnapshotsOptions { NameContains = name }, ctx.Interrupt).ConfigureAwait(false);
            return matches.FirstOrDefault(s => s.Name == name) ?? throw new CliException($"snapshot '{name}' was accepted but is not listed yet");
        }
    }

    private static async Task<string> EnsureRegistryAsync(CliContext ctx, string url, string? user, string? password)
    {
        var existing = await ctx.Client.Registries.ListAsync(cancellationToken: ctx.Interrupt).ConfigureAwait(false);
        var request = new RegistryRequest { Url = url, Username = user, Password = password };
        if (existing.FirstOrDefault(r => string.Equals(r.Url, url, StringComparison.OrdinalIgnoreCase)) is { Name: { } registryName } match)
        {
            var updated = await ctx.Client.Registries.UpdateAsync(registryName, request, ctx.Interrupt).ConfigureAwait(false);
            return updated.Id ?? match.Id ?? throw new CliException("the registry has no id");
        }

        var host = Uri.TryCreate(url.Contains("://", StringComparison.Ordinal) ? url : "https://" + url, UriKind.Absolute, out var uri) ? uri.Host : url;
        var created = await ctx.Client.Registries.CreateAsync(request with { Name = "cli-" + host.Replace('.', '-') }, ctx.Interrupt).ConfigureAwait(false);
        OutputWriter.Note($"Created registry '{created.Name}' for {url}.");
        return created.Id ?? throw new CliException("the new registry has no id");
    }
}
