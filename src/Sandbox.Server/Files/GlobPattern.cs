using System.Text;
using System.Text.RegularExpressions;

namespace Sandbox.Server.Files;

/// <summary>Glob patterns over '/'-separated relative paths: <c>**</c> spans segments; <c>*</c>, <c>?</c>, <c>[...]</c> stay in one.</summary>
internal sealed class GlobPattern
{
    private readonly Regex _regex;

    public GlobPattern(string pattern)
    {
        Pattern = pattern.Trim().TrimStart('/');
        if (Pattern.Length == 0)
        {
            Pattern = "*";
        }

        string[] segments = Pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        Recursive = segments.Contains("**");
        MaxDepth = Recursive ? int.MaxValue : segments.Length;
        _regex = new Regex("^" + ToRegex(segments) + "$", RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromSeconds(1));
    }

    public string Pattern { get; }

    public bool Recursive { get; }

    /// <summary>How many directory levels below the search root can match.</summary>
    public int MaxDepth { get; }

    public bool IsMatch(string relativePath) => _regex.IsMatch(relativePath);

    private static string ToRegex(string[] segments)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < segments.Length; i++)
        {
            string segment = segments[i];
            bool last = i == segments.Length - 1;
            if (segment == "**")
            {
                sb.Append(last ? ".*" : "(?:[^/]+/)*");
                continue;
            }

            sb.Append(SegmentToRegex(segment));
            if (!last)
            {
                sb.Append('/');
            }
        }

        return sb.ToString();
    }

    internal static string SegmentToRegex(string segment)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < segment.Length; i++)
        {
            char c = segment[i];
            switch (c)
            {
                case '*':
                    sb.Append("[^/]*");
                    break;
                case '?':
                    sb.Append("[^/]");
                    break;
                case '[':
                    int close = segment.IndexOf(']', i + 1);
                    if (close < 0)
                    {
                        sb.Append(@"\[");
                        break;
                    }

                    string body = segment[(i + 1)..close];
                    bool negate = body.StartsWith('!') || body.StartsWith('^');
                    if (negate)
                    {
                        body = body[1..];
                    }

                    sb.Append('[').Append(negate ? "^" : "").Append(body.Replace(@"\", @"\\", StringComparison.Ordinal)).Append(']');
                    i = close;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return sb.ToString();
    }
}
