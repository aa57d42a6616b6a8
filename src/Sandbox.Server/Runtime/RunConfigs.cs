using Sandbox.Protocol;
using Sandbox.Server.Errors;

namespace Sandbox.Server.Runtime;

/// <summary>run_config layering (snapshot → sandbox → command): user and work_dir replace, env_vars merge key by key.</summary>
internal static class RunConfigs
{
    /// <summary>Checks a run_config given in a request (<paramref name="field"/> names it in the error).</summary>
    public static void Validate(RunConfig? runConfig, string field)
    {
        if (runConfig?.WorkDir is { } dir && !dir.StartsWith('/'))
        {
            throw new InvalidRequestException(field, "run_config.work_dir must be an absolute path");
        }
    }

    public static RunConfig? Layer(RunConfig? lower, RunConfig? upper)
    {
        if (lower is null)
        {
            return upper;
        }

        if (upper is null)
        {
            return lower;
        }

        Dictionary<string, string>? env = null;
        if (lower.EnvVars is not null || upper.EnvVars is not null)
        {
            env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in lower.EnvVars ?? new Dictionary<string, string>())
            {
                env[k] = v;
            }

            foreach (var (k, v) in upper.EnvVars ?? new Dictionary<string, string>())
            {
                env[k] = v;
            }
        }

        return new RunConfig
        {
            User = upper.User ?? lower.User,
            WorkDir = upper.WorkDir ?? lower.WorkDir,
            EnvVars = env,
        };
    }
}
