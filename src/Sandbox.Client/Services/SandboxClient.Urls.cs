using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Service URLs and download links (spec §6.9, §6.10, §8.7, §8.8).</summary>
public sealed partial class SandboxClient
{
    /// <summary>
    /// Mints a token URL for an HTTP service listening on <paramref name="port"/> inside the sandbox
    /// (<c>POST /boxes/{name}/service-url</c>). The returned object refreshes its token when 30 s or less remain.
    /// </summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="port">The port inside the sandbox (1..65535).</param>
    /// <param name="options">Token lifetime (1..86400 s, default 600 s) and embed origins.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The service URL.</returns>
    /// <exception cref="SandboxValidationException">Invalid port or lifetime; no request is sent.</exception>
    /// <exception cref="ResourceNotFoundException">No such sandbox.</exception>
    public async Task<ServiceUrl> GetServiceUrlAsync(string name, int port, ServiceUrlOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new ServiceUrlOptions();
        var request = BuildServiceUrlRequest(port, options);
        var serviceUrl = new ServiceUrl(this, name, request);
        await serviceUrl.RefreshAsync(cancellationToken).ConfigureAwait(false);
        return serviceUrl;
    }

    /// <summary>
    /// Grants LangSmith-login access to a port (<c>POST /boxes/{name}/service-url</c> with <c>access</c>, delta §4.5):
    /// <c>restricted</c> (the creator and users with sandbox-exec permission) or <c>workspace</c> (any workspace member).
    /// Each call replaces the stored embed origins (none = cleared). While a login grant exists, token-mode requests for
    /// the port are refused with 409.
    /// </summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="port">The port inside the sandbox (1..65535).</param>
    /// <param name="access"><c>restricted</c> or <c>workspace</c>.</param>
    /// <param name="embedOrigins">Pages allowed to embed the URL (at most 5, sent only when non-empty).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The login URL.</returns>
    /// <exception cref="SandboxValidationException">Invalid port or access mode; no request is sent.</exception>
    public async Task<ServiceLoginUrl> GetServiceLoginUrlAsync(string name, int port, string access, IReadOnlyList<string>? embedOrigins = null, CancellationToken cancellationToken = default)
    {
        if (port is < 1 or > 65535)
        {
            throw new SandboxValidationException("port must be an integer between 1 and 65535", "port");
        }

        if (access is not ("restricted" or "workspace"))
        {
            throw new SandboxValidationException("access must be 'restricted' or 'workspace'", "access");
        }

        var request = new ServiceUrlRequest { Port = port, Access = access, EmbedOrigins = embedOrigins is { Count: > 0 } ? embedOrigins : null };
        var info = await RequestServiceUrlAsync(name, request, cancellationToken).ConfigureAwait(false);
        var url = !string.IsNullOrEmpty(info.BrowserUrl) ? info.BrowserUrl : info.ServiceUrl ?? "";
        return new ServiceLoginUrl(url, info.Access ?? "", info.EmbedOrigins ?? []);
    }

    /// <summary>
    /// Removes the LangSmith-login grant of a port and mints a token URL for it in the same call
    /// (<c>POST /boxes/{name}/service-url</c> with <c>access: "off"</c>, delta §4.5.2): login URLs stop working at once,
    /// and token-mode requests for the port are accepted again. Later token refreshes are plain token-mode requests.
    /// </summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="port">The port inside the sandbox (1..65535).</param>
    /// <param name="options">Token lifetime (1..86400 s, default 600 s) and embed origins of the minted token.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The token URL for the port.</returns>
    /// <exception cref="SandboxValidationException">Invalid port or lifetime; no request is sent.</exception>
    /// <exception cref="ResourceNotFoundException">No such sandbox.</exception>
    public async Task<ServiceUrl> RemoveServiceLoginAsync(string name, int port, ServiceUrlOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = BuildServiceUrlRequest(port, options ?? new ServiceUrlOptions());
        var serviceUrl = new ServiceUrl(this, name, request);
        serviceUrl.SetInitial(await RequestServiceUrlAsync(name, request with { Access = "off" }, cancellationToken).ConfigureAwait(false));
        return serviceUrl;
    }

    internal static ServiceUrlRequest BuildServiceUrlRequest(int port, ServiceUrlOptions options)
    {
        if (port is < 1 or > 65535)
        {
            throw new SandboxValidationException("port must be an integer between 1 and 65535", "port");
        }

        var seconds = options.ExpiresIn.TotalSeconds;
        if (seconds != Math.Floor(seconds) || seconds < 1 || seconds > 86400)
        {
            throw new SandboxValidationException("expires_in_seconds must be an integer between 1 and 86400", "expires_in_seconds");
        }

        return new ServiceUrlRequest
        {
            Port = port,
            ExpiresInSeconds = (int)seconds,
            EmbedOrigins = options.EmbedOrigins is { Count: > 0 } origins ? origins : null,
        };
    }

    internal Task<ServiceUrlInfo> RequestServiceUrlAsync(string name, ServiceUrlRequest request, CancellationToken cancellationToken) =>
        SendControlAsync<ServiceUrlInfo>(HttpMethod.Post, "/boxes/" + SandboxRuntime.Segment(name, "name") + "/service-url", request, SandboxNotFound(name), cancellationToken);

    /// <summary>Mints a tokenised download link for one file (<c>POST /boxes/{name}/download-url</c>). No LangSmith
    /// credential is needed to fetch it.</summary>
    /// <param name="name">The sandbox name.</param>
    /// <param name="path">The file path inside the sandbox.</param>
    /// <param name="options">Lifetime (null = never expires), content type and disposition.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The link; <see cref="DownloadUrlInfo.ExpiresAt"/> is null for a link that never expires.</returns>
    /// <exception cref="SandboxValidationException">A lifetime under 1 s; no request is sent.</exception>
    /// <exception cref="ResourceNotFoundException">No such sandbox.</exception>
    public Task<DownloadUrlInfo> CreateDownloadUrlAsync(string name, string path, DownloadUrlOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int? expires = null;
        if (options?.ExpiresIn is { } expiresIn)
        {
            var seconds = expiresIn.TotalSeconds;
            if (seconds < 1 || seconds != Math.Floor(seconds))
            {
                throw new SandboxValidationException(
                    "expires_in_seconds must be greater than 0 (a whole number of seconds); omit it for a link that never expires",
                    "expires_in_seconds");
            }

            expires = (int)seconds;
        }

        var request = new DownloadUrlRequest
        {
            Path = path,
            ExpiresInSeconds = expires,
            ContentType = options?.ContentType,
            ContentDisposition = options?.ContentDisposition,
        };
        return SendControlAsync<DownloadUrlInfo>(HttpMethod.Post, "/boxes/" + SandboxRuntime.Segment(name, "name") + "/download-url", request, SandboxNotFound(name), cancellationToken);
    }
}
