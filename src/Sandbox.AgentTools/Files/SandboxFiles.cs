using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.AgentTools;

/// <summary>File helpers over the public client API: symlink-aware confinement and workspace snapshots.</summary>
internal static class SandboxFiles
{
    // The paths travel as environment variables, never inside the command text.
    private const string RealpathCommand = "realpath -m -- \"$SANDBOX_TOOL_ROOT\" \"$SANDBOX_TOOL_PATH\"";

    /// <summary>
    /// Resolves symlinks inside the box and refuses a path whose real location leaves the workspace.
    /// Returns the real path (what the file API should use).
    /// </summary>
    public static async Task<string> ResolveInBoxAsync(SandboxInstance box, WorkspacePathPolicy policy, string path, CancellationToken cancellationToken)
    {
        CommandResult result = await box.RunAsync(RealpathCommand, new RunOptions
        {
            Timeout = TimeSpan.FromSeconds(15),
            Env = new Dictionary<string, string>(StringComparer.Ordinal) { ["SANDBOX_TOOL_ROOT"] = policy.Root, ["SANDBOX_TOOL_PATH"] = path },
        }, cancellationToken).ConfigureAwait(false);
        string[] lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (result.ExitCode != 0 || lines.Length != 2)
        {
            throw new ToolArgumentException($"The path '{policy.ToRelative(path)}' could not be resolved in the sandbox.", "invalid_path",
                "Check the path with list_files.");
        }

        string realRoot = lines[0];
        string real = lines[1];
        bool inside = real == realRoot || real.StartsWith(realRoot == "/" ? "/" : realRoot + "/", StringComparison.Ordinal);
        if (!inside)
        {
            throw new ToolArgumentException(
                $"The path '{policy.ToRelative(path)}' leads through a symbolic link to '{real}', which is outside the workspace {policy.Root}.",
                "path_outside_workspace",
                $"Use a path whose real location is inside {policy.Root}.");
        }

        // Map back onto the configured root so the file API sees the same prefix the policy does.
        return real == realRoot ? policy.Root : policy.Root.TrimEnd('/') + real[realRoot.Length..];
    }

    /// <summary>Files below the workspace with size and mtime, keyed by absolute path.</summary>
    public static async Task<WorkspaceSnapshot> SnapshotAsync(SandboxInstance box, WorkspacePathPolicy policy, int limit, CancellationToken cancellationToken)
    {
        GlobResponse response = await box.GlobAsync("**/*", policy.Root, limit, cancellationToken).ConfigureAwait(false);
        var files = new Dictionary<string, GlobMatch>(StringComparer.Ordinal);
        foreach (GlobMatch match in response.Matches)
        {
            if (!match.IsDir)
            {
                files[match.Path] = match;
            }
        }

        return new WorkspaceSnapshot(files, response.Truncated);
    }

    /// <summary>What changed between two snapshots, newest first by path order.</summary>
    public static List<FileChange> Diff(WorkspaceSnapshot before, WorkspaceSnapshot after, WorkspacePathPolicy policy)
    {
        var changes = new List<FileChange>();
        foreach ((string path, GlobMatch now) in after.Files)
        {
            if (!before.Files.TryGetValue(path, out GlobMatch? then))
            {
                changes.Add(new FileChange(policy.ToRelative(path), "created", now.SizeBytes));
            }
            else if (then.SizeBytes != now.SizeBytes || !string.Equals(then.ModifiedAt, now.ModifiedAt, StringComparison.Ordinal))
            {
                changes.Add(new FileChange(policy.ToRelative(path), "modified", now.SizeBytes));
            }
        }

        if (!after.Truncated)
        {
            foreach (string path in before.Files.Keys)
            {
                if (!after.Files.ContainsKey(path))
                {
                    changes.Add(new FileChange(policy.ToRelative(path), "deleted", null));
                }
            }
        }

        changes.Sort(static (a, b) => string.CompareOrdinal(a.Path, b.Path));
        return changes;
    }
}
