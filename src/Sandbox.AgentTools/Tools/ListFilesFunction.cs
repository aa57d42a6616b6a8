using Microsoft.Extensions.AI;
using Sandbox.Protocol;

namespace Sandbox.AgentTools;

/// <summary><c>list_files(path?, pattern?)</c>.</summary>
internal sealed class ListFilesFunction(SandboxToolContext context) : SandboxToolFunction<ListFilesFunction.Args>(context, "list_files",
    $"List what the sandbox workspace ({context.Policy.Root}) holds, with sizes. By default everything below the workspace, recursively.",
    ToolSchemas.For<ListFilesArguments>(context.Options, context.Policy))
{
    internal sealed record Args(string Path, string Pattern);

    protected override Args Parse(AIFunctionArguments arguments)
    {
        string path = Context.Policy.Resolve(ToolArgs.GetString(arguments, "path", required: false), allowRoot: true);
        string pattern = ToolArgs.GetString(arguments, "pattern", required: false) is { Length: > 0 } p ? p : "**/*";
        if (pattern.Contains('\0', StringComparison.Ordinal) || pattern.StartsWith('/') || pattern.Split('/').Contains(".."))
        {
            throw new ToolArgumentException($"The pattern '{pattern}' is not allowed: it must be relative to 'path' and must not contain '..'.", "invalid_argument",
                "Use patterns like '*', '**/*' or 'src/**/*.py'.");
        }

        return new Args(path, pattern);
    }

    protected override async Task<ToolOutput> ExecuteAsync(SandboxLease lease, Args args, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        string real = args.Path == Context.Policy.Root
            ? args.Path
            : await SandboxFiles.ResolveInBoxAsync(lease.Sandbox, Context.Policy, args.Path, cancellationToken).ConfigureAwait(false);
        int limit = Context.Options.ListFilesLimit;
        GlobResponse response;
        try
        {
            response = await lease.Sandbox.GlobAsync(args.Pattern, real, limit + 1, cancellationToken).ConfigureAwait(false);
        }
        catch (Sandbox.Client.ResourceNotFoundException)
        {
            return ToolOutput.Error($"The directory '{Context.Policy.ToRelative(real)}' does not exist.", "not_found", "List the workspace root first.");
        }

        var entries = new List<FileEntry>();
        long total = 0;
        foreach (GlobMatch match in response.Matches.OrderBy(m => m.Path, StringComparer.Ordinal))
        {
            if (entries.Count == limit)
            {
                break;
            }

            entries.Add(new FileEntry(Context.Policy.ToRelative(match.Path), match.IsDir, match.IsDir ? 0 : match.SizeBytes, match.ModifiedAt));
            if (!match.IsDir)
            {
                total += match.SizeBytes;
            }
        }

        bool truncated = response.Truncated || response.Matches.Count > limit;
        string? note = truncated
            ? $"Only the first {entries.Count} entries are shown. Narrow 'path' or 'pattern' to see the rest."
            : entries.Count == 0 ? "Nothing matched." : null;
        return ToolOutput.From(new ListFilesResult(Context.Policy.ToRelative(real), args.Pattern, entries, entries.Count, total, truncated, note));
    }
}
