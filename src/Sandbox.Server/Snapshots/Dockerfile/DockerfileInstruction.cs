namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>One instruction of a Dockerfile, continuation lines joined and comments removed.</summary>
/// <param name="Keyword">Upper-case instruction (<c>RUN</c>, <c>COPY</c>, …).</param>
/// <param name="Line">1-based line of the instruction in the Dockerfile.</param>
/// <param name="Flags">Leading <c>--name=value</c> flags (a bare <c>--name</c> has the value <c>""</c>).</param>
/// <param name="Text">The arguments after the flags, as written (shell form).</param>
/// <param name="Json">The arguments in JSON (exec) form, or null for the shell form.</param>
internal sealed record DockerfileInstruction(string Keyword, int Line, IReadOnlyDictionary<string, string> Flags, string Text, IReadOnlyList<string>? Json)
{
    /// <summary>The instruction as shown in the build log (one line, shortened).</summary>
    public string Display
    {
        get
        {
            string flags = string.Concat(Flags.Select(f => f.Value.Length == 0 ? $"--{f.Key} " : $"--{f.Key}={f.Value} "));
            string args = Json is null ? Text : "[" + string.Join(", ", Json.Select(a => "\"" + a.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"")) + "]";
            string text = (Keyword + " " + flags + args).Replace('\n', ' ').Trim();
            return text.Length > 100 ? text[..97] + "..." : text;
        }
    }
}
