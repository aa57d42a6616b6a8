namespace Sandbox.Protocol;

/// <summary>What commands run with; layered snapshot → sandbox → command (user and work_dir replace, env_vars merge).</summary>
public sealed record RunConfig
{
    /// <summary>Account: <c>name</c>, <c>uid</c>, <c>name:group</c> or <c>uid:gid</c>.</summary>
    public string? User { get; init; }

    /// <summary>Absolute working directory.</summary>
    public string? WorkDir { get; init; }

    /// <summary>Environment variables.</summary>
    public IReadOnlyDictionary<string, string>? EnvVars { get; init; }
}
