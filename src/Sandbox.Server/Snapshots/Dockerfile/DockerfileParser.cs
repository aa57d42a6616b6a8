using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>
/// Reads a Dockerfile into instructions (the Dockerfile reference's syntax: parser directives, comments, backslash line
/// continuations, JSON and shell forms, leading <c>--flags</c>) and expands <c>$VAR</c> / <c>${VAR}</c> /
/// <c>${VAR:-default}</c> / <c>${VAR:+alternative}</c> the way BuildKit does for the instructions that expand variables.
/// </summary>
internal static partial class DockerfileParser
{
    /// <summary>Largest Dockerfile read (bytes).</summary>
    public const int MaxBytes = 1024 * 1024;

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "WORKDIR", "USER", "CMD", "ENTRYPOINT", "EXPOSE", "LABEL", "SHELL",
        "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "ONBUILD", "MAINTAINER",
    };

    public static IReadOnlyList<DockerfileInstruction> Parse(string text)
    {
        var instructions = new List<DockerfileInstruction>();
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        int i = 0;

        // Parser directives: only at the very top, as "# name=value" comments.
        for (; i < lines.Length; i++)
        {
            var directive = Directive().Match(lines[i]);
            if (!directive.Success)
            {
                break;
            }

            string name = directive.Groups[1].Value.ToLowerInvariant();
            string value = directive.Groups[2].Value.Trim();
            if (name == "escape" && value != "\\")
            {
                throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {i + 1}: the parser directive 'escape={value}' is not supported (only the default backslash)");
            }
        }

        while (i < lines.Length)
        {
            string line = lines[i];
            int start = i;
            i++;
            if (IsBlankOrComment(line))
            {
                continue;
            }

            var logical = new StringBuilder();
            string current = line.TrimEnd();
            while (current.EndsWith('\\'))
            {
                logical.Append(current, 0, current.Length - 1);
                // Comment and empty lines inside a continuation are skipped, as BuildKit does.
                while (i < lines.Length && IsBlankOrComment(lines[i]) && lines[i].Trim().Length > 0)
                {
                    i++;
                }

                if (i >= lines.Length)
                {
                    current = "";
                    break;
                }

                current = lines[i].TrimEnd();
                i++;
            }

            logical.Append(current);
            instructions.Add(ParseInstruction(logical.ToString().Trim(), start + 1));
        }

        return instructions;
    }

    private static bool IsBlankOrComment(string line)
    {
        string trimmed = line.TrimStart();
        return trimmed.Length == 0 || trimmed[0] == '#';
    }

    private static DockerfileInstruction ParseInstruction(string text, int line)
    {
        int space = text.IndexOfAny([' ', '\t']);
        string keyword = (space < 0 ? text : text[..space]).ToUpperInvariant();
        string rest = space < 0 ? "" : text[(space + 1)..].Trim();
        if (!Known.Contains(keyword))
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {line}: unknown instruction '{keyword}'");
        }

        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (keyword is "FROM" or "RUN" or "COPY" or "ADD" or "HEALTHCHECK")
        {
            while (rest.StartsWith("--", StringComparison.Ordinal))
            {
                int end = rest.IndexOfAny([' ', '\t']);
                string flag = end < 0 ? rest : rest[..end];
                rest = end < 0 ? "" : rest[(end + 1)..].TrimStart();
                int eq = flag.IndexOf('=', StringComparison.Ordinal);
                flags[eq < 0 ? flag[2..] : flag[2..eq]] = eq < 0 ? "" : flag[(eq + 1)..];
            }
        }

        IReadOnlyList<string>? json = null;
        if (keyword is "RUN" or "CMD" or "ENTRYPOINT" or "COPY" or "ADD" or "SHELL" or "VOLUME" && rest.StartsWith('['))
        {
            try
            {
                using var doc = JsonDocument.Parse(rest);
                if (doc.RootElement.ValueKind == JsonValueKind.Array && doc.RootElement.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
                {
                    json = [.. doc.RootElement.EnumerateArray().Select(e => e.GetString()!)];
                }
            }
            catch (JsonException)
            {
                // Not valid JSON: BuildKit then treats the text as the shell form.
            }
        }

        if (keyword == "SHELL" && json is null)
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {line}: SHELL needs the JSON form, e.g. SHELL [\"/bin/bash\", \"-c\"]");
        }

        if (rest.Length == 0 && keyword is not ("CMD" or "ENTRYPOINT"))
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {line}: {keyword} needs arguments");
        }

        if (keyword is "RUN" or "COPY" or "ADD" && json is null && Heredoc().IsMatch(rest))
        {
            throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {line}: heredocs ({keyword} <<EOF) are not supported");
        }

        return new DockerfileInstruction(keyword, line, flags, rest, json);
    }

    /// <summary>Splits <c>key=value</c> pairs (ENV, LABEL, ARG) with shell-like quoting; the legacy <c>ENV key value</c> form too.</summary>
    public static List<KeyValuePair<string, string?>> ParsePairs(string text, bool legacyForm, int line, string keyword)
    {
        var words = SplitWords(text, line, keyword);
        var pairs = new List<KeyValuePair<string, string?>>();
        if (words.Count == 0)
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {line}: {keyword} needs arguments");
        }

        if (legacyForm && !words[0].Raw.Contains('=', StringComparison.Ordinal))
        {
            // ENV key value with spaces: everything after the first word, as written.
            string key = words[0].Raw;
            string value = text.TrimStart()[key.Length..].Trim();
            pairs.Add(new(key, Unquote(value, line, keyword)));
            return pairs;
        }

        foreach (var (raw, _) in words)
        {
            int eq = raw.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                if (keyword == "ARG")
                {
                    pairs.Add(new(raw, null));
                    continue;
                }

                throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {line}: {keyword} expects key=value, got '{raw}'");
            }

            pairs.Add(new(raw[..eq], Unquote(raw[(eq + 1)..], line, keyword)));
        }

        return pairs;
    }

    /// <summary>Whitespace-separated words, keeping quoted spans (and backslash escapes) raw for a later <see cref="Unquote"/>.</summary>
    private static List<(string Raw, int Start)> SplitWords(string text, int line, string keyword)
    {
        var words = new List<(string, int)>();
        var current = new StringBuilder();
        int start = -1;
        char quote = '\0';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quote == '\0' && char.IsWhiteSpace(c))
            {
                if (current.Length > 0)
                {
                    words.Add((current.ToString(), start));
                    current.Clear();
                }

                continue;
            }

            if (current.Length == 0)
            {
                start = i;
            }

            current.Append(c);
            if (c == '\\' && quote != '\'' && i + 1 < text.Length)
            {
                current.Append(text[++i]);
            }
            else if (quote == '\0' && c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == quote)
            {
                quote = '\0';
            }
        }

        if (quote != '\0')
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {line}: unterminated quote in {keyword}");
        }

        if (current.Length > 0)
        {
            words.Add((current.ToString(), start));
        }

        return words;
    }

    private static string Unquote(string value, int line, string keyword)
    {
        var result = new StringBuilder();
        char quote = '\0';
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c == '\\' && quote != '\'' && i + 1 < value.Length)
            {
                char next = value[++i];
                if (next != '$')
                {
                    result.Append(next);
                }
                else
                {
                    result.Append("\\$"); // kept escaped for Expand
                }
            }
            else if (quote == '\0' && c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == quote)
            {
                quote = '\0';
            }
            else
            {
                result.Append(c);
            }
        }

        if (quote != '\0')
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {line}: unterminated quote in {keyword}");
        }

        return result.ToString();
    }

    /// <summary>Expands <c>$VAR</c>, <c>${VAR}</c>, <c>${VAR:-word}</c>, <c>${VAR:+word}</c> (and the forms without colon); <c>\$</c> is a literal dollar.</summary>
    public static string Expand(string text, IReadOnlyDictionary<string, string> variables, int line)
    {
        var result = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\\' && i + 1 < text.Length && text[i + 1] == '$')
            {
                result.Append('$');
                i++;
                continue;
            }

            if (c != '$' || i + 1 >= text.Length)
            {
                result.Append(c);
                continue;
            }

            if (text[i + 1] == '{')
            {
                int close = text.IndexOf('}', i + 2);
                if (close < 0)
                {
                    throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {line}: missing '}}' in '{text}'");
                }

                string body = text[(i + 2)..close];
                result.Append(ExpandBraced(body, variables, line));
                i = close;
                continue;
            }

            int j = i + 1;
            while (j < text.Length && (char.IsAsciiLetterOrDigit(text[j]) || text[j] == '_'))
            {
                j++;
            }

            if (j == i + 1)
            {
                result.Append(c);
                continue;
            }

            result.Append(variables.TryGetValue(text[(i + 1)..j], out string? value) ? value : "");
            i = j - 1;
        }

        return result.ToString();
    }

    private static string ExpandBraced(string body, IReadOnlyDictionary<string, string> variables, int line)
    {
        var match = Braced().Match(body);
        if (!match.Success)
        {
            throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {line}: the substitution '${{{body}}}' is not supported (only ${{VAR}}, ${{VAR:-word}} and ${{VAR:+word}})");
        }

        string name = match.Groups[1].Value;
        bool colon = match.Groups[2].Value.Length > 0;
        string op = match.Groups[3].Value;
        string word = match.Groups[4].Value;
        bool set = variables.TryGetValue(name, out string? value);
        bool present = set && (!colon || value!.Length > 0);
        return op switch
        {
            "" => value ?? "",
            "-" => present ? value! : Expand(word, variables, line),
            "+" => present ? Expand(word, variables, line) : "",
            _ => throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {line}: the substitution '${{{body}}}' is not supported"),
        };
    }

    [GeneratedRegex(@"^#\s*([A-Za-z]+)\s*=(.*)$")]
    private static partial Regex Directive();

    [GeneratedRegex(@"(^|\s)<<-?[""']?[A-Za-z_][A-Za-z0-9_]*[""']?(\s|$)")]
    private static partial Regex Heredoc();

    [GeneratedRegex(@"^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+])(.*))?$", RegexOptions.Singleline)]
    private static partial Regex Braced();
}
