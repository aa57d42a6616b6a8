using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Sandbox.Server.Snapshots.Registry;

/// <summary>
/// The HTTP side of one repository on an OCI distribution / Docker Registry v2 server: answers a <c>WWW-Authenticate</c>
/// challenge once (Bearer: a token from the realm, with Basic credentials when given; Basic: the credentials) and maps
/// failures to <see cref="RegistryPullException"/>. Credentials never appear in messages.
/// </summary>
internal sealed class RegistryClient
{
    private readonly HttpClient _http;
    private readonly RegistryEndpoint _endpoint;
    private readonly string _repository;
    private readonly string? _username;
    private readonly string? _password;
    private readonly string _credentialSource;
    private AuthenticationHeaderValue? _authorization;

    public RegistryClient(HttpClient http, RegistryEndpoint endpoint, string repository, string? username, string? password, string credentialSource)
    {
        _http = http;
        _endpoint = endpoint;
        _repository = repository;
        _username = username;
        _password = password;
        _credentialSource = credentialSource;
    }

    private bool HasCredentials => _username is not null && _password is not null;

    private string Where => $"{_endpoint.Host}/{_repository}";

    /// <summary>GET <c>/v2/{repository}/{path}</c>; the caller disposes the (successful) response.</summary>
    public async Task<HttpResponseMessage> GetAsync(string path, string? accept, string what, CancellationToken cancellationToken)
    {
        var url = new Uri($"{_endpoint.Scheme}://{_endpoint.Host}/v2/{_repository}/{path}");
        for (int attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (accept is not null)
            {
                request.Headers.TryAddWithoutValidation("Accept", accept);
            }

            request.Headers.Authorization = _authorization;
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new RegistryPullException(RegistryPullError.Unavailable, $"Registry {_endpoint.Host} could not be reached ({_endpoint.Scheme}): {e.Message}", e);
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
                {
                    await AuthenticateAsync(response.Headers.WwwAuthenticate.FirstOrDefault(), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                string detail = await ErrorDetailAsync(response, cancellationToken).ConfigureAwait(false);
                throw response.StatusCode switch
                {
                    HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => Unauthorized($"was refused access to {what}{detail}"),
                    HttpStatusCode.NotFound => new RegistryPullException(RegistryPullError.NotFound, $"{what} was not found in {Where}{detail}"),
                    _ => new RegistryPullException(RegistryPullError.Unavailable, $"Registry {_endpoint.Host} answered {(int)response.StatusCode} for {what}{detail}"),
                };
            }
        }
    }

    private RegistryPullException Unauthorized(string what) => new(RegistryPullError.Unauthorized, HasCredentials
        ? $"Registry {_endpoint.Host} {what}: the credentials of {_credentialSource} were rejected (wrong username or password?)"
        : $"Registry {_endpoint.Host} {what}: it needs credentials. Create a registry (POST /api/v2/sandboxes/registries with url, username, password) and pass its id as registry_id.");

    private async Task AuthenticateAsync(AuthenticationHeaderValue? challenge, CancellationToken cancellationToken)
    {
        if (challenge is null)
        {
            throw Unauthorized($"refused {Where} without saying how to authenticate (no WWW-Authenticate)");
        }

        if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            _authorization = HasCredentials ? BasicHeader() : throw Unauthorized($"refused {Where}");
            return;
        }

        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryPullException(RegistryPullError.Unsupported, $"Registry {_endpoint.Host} asks for '{challenge.Scheme}' authentication; only Basic and Bearer are supported");
        }

        var parameters = ParseChallenge(challenge.Parameter ?? "");
        if (!parameters.TryGetValue("realm", out string? realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri)
            || !(realmUri.Scheme == "https" || (realmUri.Scheme == "http" && ImageReference.IsLoopbackHost(realmUri.Authority))))
        {
            throw new RegistryPullException(RegistryPullError.Unsupported, $"Registry {_endpoint.Host} names no usable token realm (https, or http on loopback)");
        }

        var query = new StringBuilder();
        if (parameters.TryGetValue("service", out string? service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service));
        }

        string scope = parameters.TryGetValue("scope", out string? s) ? s : $"repository:{_repository}:pull";
        query.Append(query.Length > 0 ? "&" : "").Append("scope=").Append(Uri.EscapeDataString(scope));
        var tokenUri = new UriBuilder(realmUri) { Query = (realmUri.Query.TrimStart('?') is { Length: > 0 } q ? q + "&" : "") + query }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, tokenUri);
        if (HasCredentials)
        {
            request.Headers.Authorization = BasicHeader();
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new RegistryPullException(RegistryPullError.Unavailable, $"The token service of registry {_endpoint.Host} ({realmUri.Authority}) could not be reached: {e.Message}", e);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw Unauthorized($"token service refused a token for {Where}");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new RegistryPullException(RegistryPullError.Unavailable, $"The token service of registry {_endpoint.Host} answered {(int)response.StatusCode}");
            }

            byte[] body = await ReadLimitedAsync(response, 1 << 20, cancellationToken).ConfigureAwait(false);
            string? token = null;
            try
            {
                using var doc = JsonDocument.Parse(body);
                token = doc.RootElement.TryGetProperty("token", out var t) && t.GetString() is { Length: > 0 } tv ? tv
                    : doc.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null;
            }
            catch (JsonException)
            {
            }

            _authorization = token is { Length: > 0 } ? new AuthenticationHeaderValue("Bearer", token)
                : throw new RegistryPullException(RegistryPullError.Unavailable, $"The token service of registry {_endpoint.Host} returned no token");
        }
    }

    private AuthenticationHeaderValue BasicHeader() =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(_username + ":" + _password)));

    /// <summary>Parses <c>realm="…",service="…",scope="…"</c> (quoted strings may contain commas).</summary>
    internal static Dictionary<string, string> ParseChallenge(string parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = 0;
        while (i < parameter.Length)
        {
            while (i < parameter.Length && (parameter[i] == ',' || char.IsWhiteSpace(parameter[i])))
            {
                i++;
            }

            int eq = parameter.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            string key = parameter[i..eq].Trim();
            i = eq + 1;
            var value = new StringBuilder();
            if (i < parameter.Length && parameter[i] == '"')
            {
                i++;
                while (i < parameter.Length && parameter[i] != '"')
                {
                    if (parameter[i] == '\\' && i + 1 < parameter.Length)
                    {
                        i++;
                    }

                    value.Append(parameter[i++]);
                }

                i++;
            }
            else
            {
                while (i < parameter.Length && parameter[i] != ',')
                {
                    value.Append(parameter[i++]);
                }
            }

            result[key] = value.ToString().Trim();
        }

        return result;
    }

    /// <summary>Reads at most <paramref name="limit"/> bytes of the body (a larger one is refused).</summary>
    public static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new RegistryPullException(RegistryPullError.TooLarge, $"A registry response of {response.Content.Headers.ContentLength} bytes exceeds the {limit}-byte limit for metadata");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + n > limit)
            {
                throw new RegistryPullException(RegistryPullError.TooLarge, $"A registry response exceeds the {limit}-byte limit for metadata");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    private static async Task<string> ErrorDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            byte[] body = await ReadLimitedAsync(response, 64 * 1024, cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array)
            {
                var parts = errors.EnumerateArray()
                    .Select(e => (e.TryGetProperty("code", out var c) ? c.GetString() : null, e.TryGetProperty("message", out var m) ? m.GetString() : null))
                    .Select(p => string.Join(": ", new[] { p.Item1, p.Item2 }.Where(x => !string.IsNullOrEmpty(x))))
                    .Where(p => p.Length > 0)
                    .Take(3);
                string joined = string.Join("; ", parts);
                return joined.Length == 0 ? "" : $" ({(joined.Length > 300 ? joined[..300] : joined)})";
            }
        }
        catch (Exception e) when (e is JsonException or RegistryPullException or IOException or HttpRequestException)
        {
        }

        return "";
    }
}
