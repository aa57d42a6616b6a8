using Microsoft.Extensions.Options;

namespace Sandbox.Server.Networking.Egress;

/// <summary>
/// The server's named secrets, referenced by proxy rules as <c>{NAME}</c> (<c>workspace_secret</c>):
/// <see cref="SandboxServerOptions.Secrets"/>, configuration
/// section <c>Secrets</c> (e.g. <c>Secrets:GITHUB_TOKEN</c>) and environment variables <c>SANDBOX_SECRET_&lt;NAME&gt;</c>.
/// Values are only ever used by the egress proxy, outside the boxes; they are never logged.
/// </summary>
internal sealed class EgressSecrets(IConfiguration configuration, IOptions<SandboxServerOptions>? serverOptions = null)
{
    /// <summary>Environment-variable prefix of secrets.</summary>
    public const string EnvironmentPrefix = "SANDBOX_SECRET_";

    /// <summary>Looks a secret up by name (case-sensitive in the environment, as configured in the section).</summary>
    public string? Find(string name)
    {
        if (serverOptions?.Value.Secrets.TryGetValue(name, out var fromOptions) == true && !string.IsNullOrEmpty(fromOptions))
        {
            return fromOptions;
        }

        var fromSection = configuration.GetSection("Secrets")[name];
        if (!string.IsNullOrEmpty(fromSection))
        {
            return fromSection;
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentPrefix + name);
        return string.IsNullOrEmpty(fromEnvironment) ? null : fromEnvironment;
    }
}
