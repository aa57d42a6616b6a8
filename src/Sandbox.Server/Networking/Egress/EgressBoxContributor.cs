using System.Collections.Concurrent;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Networking.Egress;

/// <summary>
/// Gives a box with a <c>proxy_config</c> its only way out: <c>HTTP_PROXY</c>/<c>HTTPS_PROXY</c> (both cases) pointing
/// at the egress listener on the box's own loopback, the server's CA in the box's trust store (combined bundle
/// bind-mounted over <c>/etc/ssl/certs/ca-certificates.crt</c>, plus <c>SSL_CERT_FILE</c>, <c>REQUESTS_CA_BUNDLE</c>,
/// <c>CURL_CA_BUNDLE</c>, <c>NODE_EXTRA_CA_CERTS</c>) and the rules' plaintext <c>env_vars</c>. Secrets stay in the
/// server: nothing secret is added to the box. A box without a proxy config gets nothing, so it has no egress at all.
/// </summary>
internal sealed partial class EgressBoxContributor(EgressListeners listeners, EgressCertificateAuthority authority, ILogger<EgressBoxContributor> logger)
    : IBoxStartContributor
{
    private readonly ConcurrentDictionary<string, (EgressPolicy Policy, Sandbox.Protocol.ProxyConfig Config)> _pending = new();

    public ValueTask ContributeAsync(BoxStartContext context, CancellationToken cancellationToken)
    {
        _pending.TryRemove(context.BoxId, out _);
        if (context.ProxyConfig is not { } config)
        {
            return ValueTask.CompletedTask;
        }

        EgressPolicy policy;
        try
        {
            policy = EgressPolicy.Compile(config);
        }
        catch (FormatException ex)
        {
            throw new BoxStartException("Invalid proxy_config: " + ex.Message, ex);
        }

        foreach (var rule in config.Rules.Where(r => r.Enabled != false && (r.Aws is not null || r.Gcp is not null)))
        {
            LogProviderRuleIgnored(logger, context.BoxId, rule.Name);
        }

        foreach (var rule in config.Rules.Where(r => r.Enabled != false && r.EnvVars is not null))
        {
            foreach (var (name, value) in rule.EnvVars!)
            {
                context.Environment[name] = value;
            }
        }

        var proxy = $"http://127.0.0.1:{listeners.Port}";
        foreach (var name in new[] { "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy" })
        {
            context.Environment[name] = proxy;
        }

        context.Environment["NO_PROXY"] = context.Environment["no_proxy"] = "localhost,127.0.0.1,::1";
        foreach (var name in new[] { "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS" })
        {
            context.Environment[name] = EgressCertificateAuthority.BoxBundlePath;
        }

        context.ReadOnlyBindMounts.Add(new BoxBindMount(authority.BundlePath, EgressCertificateAuthority.BoxBundlePath));
        _pending[context.BoxId] = (policy, config);
        return ValueTask.CompletedTask;
    }

    public async ValueTask OnStartedAsync(BoxStartContext context, string networkNamespacePath, CancellationToken cancellationToken)
    {
        if (!_pending.TryRemove(context.BoxId, out var pending))
        {
            await listeners.StopAsync(context.BoxId).ConfigureAwait(false);
            return;
        }

        try
        {
            await listeners.StartAsync(context.BoxId, networkNamespacePath, pending.Policy, cancellationToken, pending.Config).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException)
        {
            LogListenFailed(logger, context.BoxId, ex.Message);
            throw new BoxStartException("The egress proxy could not listen inside the sandbox: " + ex.Message, ex);
        }
    }

    [LoggerMessage(EventId = 5421, Level = LogLevel.Warning, Message = "Box {BoxId}: proxy rule {Rule} is an AWS/GCP provider rule; the local egress proxy does not sign requests for providers (only header rules and access_control apply)")]
    private static partial void LogProviderRuleIgnored(ILogger logger, string boxId, string rule);

    [LoggerMessage(EventId = 5420, Level = LogLevel.Warning, Message = "Egress proxy could not listen inside box {BoxId}: {Reason}")]
    private static partial void LogListenFailed(ILogger logger, string boxId, string reason);
}
