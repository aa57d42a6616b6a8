using System.Text;

namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>
/// The build the SDKs' Dockerfile flow asks for (spec §6.18): their script starts <c>buildkitd</c> in the builder
/// sandbox and pipes <c>buildctl build --frontend dockerfile.v0 … --output type=docker,name=TAG</c> into
/// <c>docker load</c>. This server has no BuildKit or Docker in its sandboxes; it recognises that pipeline line and builds
/// the Dockerfile itself (<see cref="DockerfileBuilder"/>), so the unmodified SDKs work.
/// </summary>
internal sealed record BuildScriptRequest(string ContextDirectory, string DockerfilePath, string Tag, string? Target, IReadOnlyDictionary<string, string> BuildArgs)
{
    /// <summary>Finds the <c>buildctl … build … | docker load</c> line of a command and reads its options; false for any other command.</summary>
    public static bool TryParse(string command, out BuildScriptRequest? request)
    {
        request = null;
        if (!command.Contains("buildctl", StringComparison.Ordinal) || !command.Contains("dockerfile.v0", StringComparison.Ordinal)
            || !command.Contains("docker load", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (string rawLine in command.Split('\n'))
        {
            string line = rawLine.Trim();
            int pipe = line.LastIndexOf("| docker load", StringComparison.Ordinal);
            if (pipe < 0 || !line.Contains("buildctl", StringComparison.Ordinal))
            {
                continue;
            }

            var words = ShellWords(line[..pipe]);
            if (words is null || words.Count < 2 || (words[0] != "buildctl" && !words[0].EndsWith("/buildctl", StringComparison.Ordinal)) || !words.Contains("build"))
            {
                continue;
            }

            string? context = null, dockerfileDir = null, filename = null, tag = null, target = null, frontend = null;
            var args = new SortedDictionary<string, string>(StringComparer.Ordinal);
            for (int i = 1; i < words.Count; i++)
            {
                string word = words[i];
                string? next = i + 1 < words.Count ? words[i + 1] : null;
                switch (word)
                {
                    case "--frontend" when next is not null:
                        frontend = next;
                        i++;
                        break;
                    case "--local" when next is not null:
                        if (next.StartsWith("context=", StringComparison.Ordinal))
                        {
                            context = next["context=".Length..];
                        }
                        else if (next.StartsWith("dockerfile=", StringComparison.Ordinal))
                        {
                            dockerfileDir = next["dockerfile=".Length..];
                        }

                        i++;
                        break;
                    case "--opt" when next is not null:
                        if (next.StartsWith("filename=", StringComparison.Ordinal))
                        {
                            filename = next["filename=".Length..];
                        }
                        else if (next.StartsWith("target=", StringComparison.Ordinal))
                        {
                            target = next["target=".Length..];
                        }
                        else if (next.StartsWith("build-arg:", StringComparison.Ordinal) && next.IndexOf('=', StringComparison.Ordinal) is int eq and > 10)
                        {
                            args[next[10..eq]] = next[(eq + 1)..];
                        }

                        i++;
                        break;
                    case "--output" when next is not null:
                        foreach (string part in next.Split(','))
                        {
                            if (part.StartsWith("name=", StringComparison.Ordinal))
                            {
                                tag = part["name=".Length..];
                            }
                        }

                        i++;
                        break;
                    case "--addr" or "--progress" when next is not null:
                        i++;
                        break;
                }
            }

            if (frontend != "dockerfile.v0" || context is null || tag is null || !context.StartsWith('/'))
            {
                continue;
            }

            dockerfileDir ??= context;
            filename ??= "Dockerfile";
            string dockerfile = filename.StartsWith('/') ? filename : dockerfileDir.TrimEnd('/') + "/" + filename;
            request = new BuildScriptRequest(context, dockerfile, tag, string.IsNullOrEmpty(target) ? null : target, args);
            return true;
        }

        return false;
    }

    /// <summary>Splits one shell line into words (single quotes, double quotes, backslashes); null when it uses anything else that matters.</summary>
    private static List<string>? ShellWords(string line)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }

                continue;
            }

            inWord = true;
            if (c == '\'')
            {
                int close = line.IndexOf('\'', i + 1);
                if (close < 0)
                {
                    return null;
                }

                current.Append(line, i + 1, close - i - 1);
                i = close;
            }
            else if (c == '"')
            {
                i++;
                for (; i < line.Length && line[i] != '"'; i++)
                {
                    if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`')
                    {
                        i++;
                    }

                    current.Append(line[i]);
                }

                if (i >= line.Length)
                {
                    return null;
                }
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                current.Append(line[++i]);
            }
            else
            {
                current.Append(c);
            }
        }

        if (inWord)
        {
            words.Add(current.ToString());
        }

        return words;
    }
}
