using Sandbox.Client;

namespace Sandbox.AgentTools;

/// <summary>Creates boxes through the public <see cref="SandboxClient"/> API with the pool's settings.</summary>
internal sealed class ClientSandboxProvisioner(SandboxClient client, SandboxPoolOptions options) : ISandboxProvisioner
{
    /// <summary>Label put on every box the pool creates, so an operator can find and clean them up.</summary>
    public const string PoolLabel = "sandbox-agenttools-pool";

    private readonly SandboxClient _client = client;
    private readonly SandboxPoolOptions _options = options;

    public Task<SandboxInstance> CreateAsync(CancellationToken cancellationToken)
    {
        CreateSandboxOptions template = _options.CreateOptions ?? new CreateSandboxOptions();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (template.Labels is not null)
        {
            foreach (KeyValuePair<string, string> label in template.Labels)
            {
                labels[label.Key] = label.Value;
            }
        }

        labels[PoolLabel] = "true";
        CreateSandboxOptions create = template with
        {
            SnapshotId = _options.SnapshotId ?? template.SnapshotId,
            SnapshotName = _options.SnapshotId is null ? (_options.SnapshotName ?? template.SnapshotName) : null,
            ProxyConfig = _options.ProxyConfig ?? template.ProxyConfig,
            Labels = labels,
            WaitForReady = true,
            Timeout = _options.CreateTimeout,
        };
        return _client.CreateSandboxAsync(create, cancellationToken);
    }

    public async Task<bool> IsHealthyAsync(SandboxInstance box, CancellationToken cancellationToken)
    {
        try
        {
            Sandbox.Protocol.SandboxStatusInfo status = await _client.GetSandboxStatusAsync(box.Name, cancellationToken).ConfigureAwait(false);
            return string.Equals(status.Status, "ready", StringComparison.OrdinalIgnoreCase);
        }
        catch (ResourceNotFoundException)
        {
            return false;
        }
    }

    public async Task DeleteAsync(SandboxInstance box, CancellationToken cancellationToken)
    {
        try
        {
            await _client.DeleteSandboxAsync(box.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceNotFoundException)
        {
            // Already gone: deleting is idempotent from the pool's point of view.
        }
    }
}
