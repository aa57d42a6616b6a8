namespace Sandbox.AgentTools;

/// <summary>
/// Confines tool paths to the workspace: relative paths resolve from the workspace root, the result is normalized
/// lexically, and anything outside the root (<c>..</c> escapes, other absolute paths, NULs) is refused.
/// Symlinks are checked separately, inside the box (<see cref="SandboxFiles.ResolveInBoxAsync"/>).
/// </summary>
internal sealed class WorkspacePathPolicy
{
    public WorkspacePathPolicy(string workspaceRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(workspaceRoot);
        if (!workspaceRoot.StartsWith('/'))
        {
            throw new ArgumentException("The workspace root must be an absolute path.", nameof(workspaceRoot));
        }

        Root = Normalize(workspaceRoot);
    }

    /// <summary>The normalized workspace root, without a trailing slash (unless it is <c>/</c>).</summary>
    public string Root { get; }

    /// <summary>Resolves a model-supplied path to a normalized absolute path inside the workspace.</summary>
    /// <exception cref="ToolArgumentException">Empty, NUL-containing, or outside the workspace.</exception>
    public string Resolve(string? path, bool allowRoot = false)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            if (allowRoot)
            {
                return Root;
            }

            throw new ToolArgumentException("A path is required.", hint: $"Give a file path relative to the workspace {Root}, e.g. 'data/input.csv'.");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ToolArgumentException("The path contains a NUL character.", "invalid_path", "Use a plain file path.");
        }

        if (path.Length > 4096)
        {
            throw new ToolArgumentException("The path is longer than 4096 characters.", "invalid_path", "Use a shorter path.");
        }

        string candidate = path.StartsWith('/') ? path : Root + "/" + path;
        string normalized = Normalize(candidate);
        if (!IsInside(normalized))
        {
            throw new ToolArgumentException(
                $"The path '{path}' resolves to '{normalized}', which is outside the workspace {Root}.",
                "path_outside_workspace",
                $"Use a path inside {Root}; relative paths are resolved from it.");
        }

        if (!allowRoot && normalized == Root)
        {
            throw new ToolArgumentException($"The path '{path}' is the workspace directory itself, not a file.", "invalid_path",
                "Give a file name, e.g. 'notes.txt'.");
        }

        return normalized;
    }

    /// <summary>True when the absolute normalized <paramref name="path"/> is the root or below it.</summary>
    public bool IsInside(string path) =>
        path == Root || path.StartsWith(Root == "/" ? "/" : Root + "/", StringComparison.Ordinal);

    /// <summary>The path relative to the root, for compact results.</summary>
    public string ToRelative(string absolute) =>
        absolute == Root ? "." : IsInside(absolute) ? absolute[(Root == "/" ? 1 : Root.Length + 1)..] : absolute;

    internal static string Normalize(string absolute)
    {
        var parts = new List<string>();
        foreach (string segment in absolute.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (parts.Count > 0)
                {
                    parts.RemoveAt(parts.Count - 1);
                }

                continue;
            }

            parts.Add(segment);
        }

        return "/" + string.Join('/', parts);
    }
}
