using System.Text.Json;

namespace EvalHarness.Tasks;

/// <summary>Reads the task file: JSON Lines, one <see cref="EvalTask"/> per line; blank lines and lines starting with '#' are skipped.</summary>
internal static class TaskFile
{
    public static async Task<IReadOnlyList<EvalTask>> LoadAsync(string path, CancellationToken cancellationToken)
    {
        var tasks = new List<EvalTask>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (string line in await File.ReadAllLinesAsync(path, cancellationToken))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line) || line.TrimStart().StartsWith('#'))
            {
                continue;
            }

            EvalTask? task;
            try
            {
                task = JsonSerializer.Deserialize<EvalTask>(line);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: not a valid task: {ex.Message}", ex);
            }

            if (task is null || string.IsNullOrWhiteSpace(task.Id))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: a task needs an id");
            }

            if (!ids.Add(task.Id))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: duplicate task id '{task.Id}'");
            }

            if (task.TimeoutSeconds is <= 0 or > 600)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: timeout_seconds must be in (0, 600]");
            }

            _ = task.ExpectedVerdict; // validates 'expected'
            tasks.Add(task);
        }

        return tasks.Count > 0 ? tasks : throw new InvalidDataException($"{path}: no tasks");
    }
}
