using Sandbox.Protocol;

namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>What the instructions so far have set.</summary>
internal sealed class BuildState
{
    public BuildState(RunConfig? image, IReadOnlyDictionary<string, string> globalArgs, IReadOnlyDictionary<string, string> buildArgs)
    {
        Env = new Dictionary<string, string>(image?.EnvVars ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        WorkDir = image?.WorkDir;
        User = image?.User;
        GlobalArgs = globalArgs;
        BuildArgs = buildArgs;
    }

    public Dictionary<string, string> Env { get; }

    public Dictionary<string, string> Args { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Labels { get; } = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> GlobalArgs { get; }

    public IReadOnlyDictionary<string, string> BuildArgs { get; }

    public string? WorkDir { get; set; }

    public string? User { get; set; }

    public List<string> Shell { get; set; } = ["/bin/sh", "-c"];

    /// <summary>What <c>$VAR</c> sees: the stage's ARGs, then ENV (ENV wins, as in BuildKit).</summary>
    public Dictionary<string, string> Variables()
    {
        var all = new Dictionary<string, string>(Args, StringComparer.Ordinal);
        foreach (var (k, v) in Env)
        {
            all[k] = v;
        }

        return all;
    }

    /// <summary>A RUN step's run config: ARGs are in its environment too, and it runs in <c>/</c> without WORKDIR.</summary>
    public RunConfig CommandRunConfig() => new()
    {
        User = User ?? "0",
        WorkDir = WorkDir ?? "/",
        EnvVars = Variables(),
    };

    /// <summary>The snapshot's run config: ENV, WORKDIR and USER (ARGs are build-time only).</summary>
    public RunConfig RunConfig() => new()
    {
        User = User,
        WorkDir = WorkDir,
        EnvVars = Env.Count == 0 ? null : new Dictionary<string, string>(Env, StringComparer.Ordinal),
    };
}
