namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>
/// The parsed Dockerfile before anything runs: which instructions form the stage to build, which flags and instructions are
/// refused, and the variables the global ARGs define.
/// </summary>
internal static class DockerfileStages
{
    /// <summary>The variables before FROM: the global ARGs, overridden by build args.</summary>
    public static Dictionary<string, string> GlobalVariables(IEnumerable<DockerfileInstruction> globalArgs, IReadOnlyDictionary<string, string> buildArgs)
    {
        var global = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var arg in globalArgs)
        {
            foreach (var (key, value) in DockerfileParser.ParsePairs(arg.Text, false, arg.Line, "ARG"))
            {
                if (buildArgs.TryGetValue(key, out string? given))
                {
                    global[key] = given;
                }
                else if (value is not null)
                {
                    global[key] = DockerfileParser.Expand(value, global, arg.Line);
                }
            }
        }

        return global;
    }

    /// <summary>
    /// The ARGs before the first FROM and the instructions of the stage to build (the only stage, or <paramref name="target"/>
    /// when it is the first); a second stage is refused.
    /// </summary>
    public static (List<DockerfileInstruction> GlobalArgs, List<DockerfileInstruction> Stage) SelectStage(IReadOnlyList<DockerfileInstruction> all, string? target)
    {
        var globalArgs = new List<DockerfileInstruction>();
        int i = 0;
        for (; i < all.Count && all[i].Keyword == "ARG"; i++)
        {
            globalArgs.Add(all[i]);
        }

        if (i >= all.Count || all[i].Keyword != "FROM")
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, all.Count == i
                ? "The Dockerfile has no FROM instruction"
                : $"line {all[i].Line}: the Dockerfile must start with FROM (only ARG may come before it), not {all[i].Keyword}");
        }

        var stage = new List<DockerfileInstruction> { all[i] };
        string[] fromWords = all[i].Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        string? stageName = fromWords.Length == 3 && fromWords[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? fromWords[2] : null;
        if (fromWords.Length is not (1 or 3) || (fromWords.Length == 3 && stageName is null))
        {
            throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {all[i].Line}: FROM expects 'image' or 'image AS name'");
        }

        for (i++; i < all.Count; i++)
        {
            if (all[i].Keyword == "FROM")
            {
                if (target is not null && target == stageName)
                {
                    break;
                }

                throw new DockerfileBuildException(DockerfileBuildError.Unsupported,
                    $"line {all[i].Line}: multi-stage builds are not supported by the sandbox server ({all[i].Display} starts a second stage); build one stage, or pass the first stage as the target");
            }

            stage.Add(all[i]);
        }

        if (target is not null && target != stageName)
        {
            throw new DockerfileBuildException(DockerfileBuildError.NotFound, $"The build target '{target}' is not a stage of the Dockerfile");
        }

        return (globalArgs, stage);
    }

    /// <summary>Refuses flags and instructions the sandbox server does not build, before anything runs.</summary>
    public static void Validate(DockerfileInstruction instruction)
    {
        string[] allowed = instruction.Keyword switch
        {
            "COPY" or "ADD" => ["chown", "chmod"],
            "FROM" => ["platform"],
            _ => [],
        };
        foreach (string flag in instruction.Flags.Keys)
        {
            if (!allowed.Contains(flag))
            {
                string why = (instruction.Keyword, flag) switch
                {
                    ("COPY", "from") => "copying from another stage or image (multi-stage) is not supported",
                    ("RUN", "network") => "the build sandbox's network follows the builder sandbox's proxy_config",
                    _ => "not supported by the sandbox server",
                };
                throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {instruction.Line}: {instruction.Keyword} --{flag}: {why}");
            }
        }

        if (instruction.Flags.TryGetValue("platform", out string? platform) && platform is not ("linux/amd64" or "$BUILDPLATFORM" or "$TARGETPLATFORM" or "${BUILDPLATFORM}" or "${TARGETPLATFORM}"))
        {
            throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {instruction.Line}: FROM --platform={platform}: only linux/amd64 is built");
        }

        switch (instruction.Keyword)
        {
            case "ONBUILD":
                throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {instruction.Line}: ONBUILD is not supported by the sandbox server");
            case "ADD" when Words(instruction).SkipLast(1).FirstOrDefault(w => w.Contains("://", StringComparison.Ordinal) || w.StartsWith("git@", StringComparison.Ordinal)) is { } url:
                throw new DockerfileBuildException(DockerfileBuildError.Unsupported, $"line {instruction.Line}: ADD from a URL ('{url}') is not supported: download it in a RUN step (the build sandbox's egress is the builder's proxy_config)");
            case "COPY" or "ADD" when Words(instruction).Count < 2:
                throw new DockerfileBuildException(DockerfileBuildError.Syntax, $"line {instruction.Line}: {instruction.Keyword} needs at least one source and a destination");
        }
    }

    /// <summary>An instruction's arguments: its JSON form, or its text split on blanks.</summary>
    public static List<string> Words(DockerfileInstruction instruction) =>
        instruction.Json is { } json ? [.. json] : [.. instruction.Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)];
}
