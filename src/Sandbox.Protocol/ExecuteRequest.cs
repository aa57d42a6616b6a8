namespace Sandbox.Protocol;

/// <summary>Body of the blocking <c>POST {dataplane}/execute</c>.</summary>
public sealed record ExecuteRequest
{
    /// <summary>Command text, run by <see cref="Shell"/>.</summary>
    public string Command { get; set; } = "";

    /// <summary>Deadline in seconds.</summary>
    public int Timeout { get; set; } = 60;

    /// <summary>Shell used to run the command.</summary>
    public string Shell { get; set; } = "/bin/bash";

    /// <summary>Extra environment (deprecated in favour of <see cref="RunConfig"/>).</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Per-command run configuration.</summary>
    public RunConfig? RunConfig { get; init; }

    /// <summary>Working directory (deprecated in favour of <see cref="RunConfig"/>).</summary>
    public string? Cwd { get; init; }
}
