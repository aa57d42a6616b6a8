using System.Globalization;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>
/// Container-registry credentials for private snapshot images, at <c>{root}/api/v2/sandboxes/registries</c>
/// (spec §6.17, delta §4.7). Obtain through <see cref="SandboxClient.Registries"/>.
/// </summary>
/// <remarks>
/// Deliberate deviation: the SDKs reach registries through their generated client, which raises its own exception family
/// and retries 408/409/429/5xx. This client uses its own transport and error mapping for these calls too (spec §3.3 and
/// §4.1), so callers handle one exception hierarchy. Passwords are write-only and never returned or logged.
/// </remarks>
public sealed class SandboxRegistries
{
    private readonly SandboxRuntime _runtime;

    internal SandboxRegistries(SandboxRuntime runtime)
    {
        _runtime = runtime;
    }

    /// <summary>Registers a registry.</summary>
    /// <param name="request">Name, URL and credentials.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The registry; its id is what snapshot creation takes as <c>registry_id</c>.</returns>
    public Task<RegistryInfo> CreateAsync(RegistryRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<RegistryInfo>(HttpMethod.Post, "", request, cancellationToken);

    /// <summary>Gets a registry by name.</summary>
    /// <param name="name">The registry name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The registry.</returns>
    public Task<RegistryInfo> GetAsync(string name, CancellationToken cancellationToken = default) =>
        SendAsync<RegistryInfo>(HttpMethod.Get, "/" + SandboxRuntime.Segment(name, "name"), null, cancellationToken);

    /// <summary>Lists registries.</summary>
    /// <param name="nameContains">Substring filter.</param>
    /// <param name="limit">Page size.</param>
    /// <param name="offset">Rows to skip.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The registries of the page.</returns>
    public async Task<IReadOnlyList<RegistryInfo>> ListAsync(string? nameContains = null, int? limit = null, int? offset = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (limit is { } l)
        {
            query.Add("limit=" + l.ToString(CultureInfo.InvariantCulture));
        }

        if (offset is { } o)
        {
            query.Add("offset=" + o.ToString(CultureInfo.InvariantCulture));
        }

        if (nameContains is not null)
        {
            query.Add("name_contains=" + Uri.EscapeDataString(nameContains));
        }

        var list = await SendAsync<RegistryList>(HttpMethod.Get, query.Count == 0 ? "" : "?" + string.Join('&', query), null, cancellationToken).ConfigureAwait(false);
        return list.Registries ?? [];
    }

    /// <summary>Updates a registry (any of name, URL, username, password).</summary>
    /// <param name="name">The current name.</param>
    /// <param name="request">The fields to change.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The updated registry.</returns>
    public Task<RegistryInfo> UpdateAsync(string name, RegistryRequest request, CancellationToken cancellationToken = default) =>
        SendAsync<RegistryInfo>(HttpMethod.Patch, "/" + SandboxRuntime.Segment(name, "name"), request, cancellationToken);

    /// <summary>Deletes a registry.</summary>
    /// <param name="name">The registry name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when deleted.</returns>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Url("/" + SandboxRuntime.Segment(name, "name")));
        request.Headers.TryAddWithoutValidation("Accept", "*/*");
        using var response = await _runtime.SendAsync(request, null, cancellationToken).ConfigureAwait(false);
        await ThrowIfFailedAsync(response, cancellationToken).ConfigureAwait(false);
    }

    internal Uri Url(string suffix) => new(_runtime.Root + "/api/v2/sandboxes/registries" + suffix);

    private async Task<T> SendAsync<T>(HttpMethod method, string suffix, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Url(suffix));
        if (body is not null)
        {
            request.Content = SandboxRuntime.JsonBody(body);
        }

        using var response = await _runtime.SendAsync(request, null, cancellationToken).ConfigureAwait(false);
        await ThrowIfFailedAsync(response, cancellationToken).ConfigureAwait(false);
        return await SandboxRuntime.ReadJsonAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task ThrowIfFailedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var body = await SandboxRuntime.ReadErrorAsync(response, cancellationToken).ConfigureAwait(false);
            throw ErrorMapper.ControlPlane((int)response.StatusCode, response.ReasonPhrase, body);
        }
    }
}
