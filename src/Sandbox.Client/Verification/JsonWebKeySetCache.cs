using System.Text.Json;

namespace Sandbox.Client;

/// <summary>The fetched key set and its refresh rules (delta §7.2): a known <c>kid</c> is used without refetch while the
/// set is younger than 5 minutes; otherwise a refetch happens at most once per 30 s (the first fetch is always allowed);
/// concurrent callers share one in-flight fetch; a successful fetch replaces the whole set.</summary>
internal sealed class JsonWebKeySetCache
{
    internal static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);
    internal static readonly TimeSpan MinRefetchInterval = TimeSpan.FromSeconds(30);

    private readonly Lock _gate = new();
    private readonly HttpClient _http;
    private readonly Uri _jwksUrl;
    private readonly TimeProvider _time;
    private Dictionary<string, VerificationKey> _keys = new(StringComparer.Ordinal);
    private DateTimeOffset? _fetchedAt;
    private DateTimeOffset? _lastAttemptAt;
    private Task? _inFlight;

    public JsonWebKeySetCache(HttpClient http, Uri jwksUrl, TimeProvider time)
    {
        _http = http;
        _jwksUrl = jwksUrl;
        _time = time;
    }

    /// <summary>Returns the key named <paramref name="kid"/>, fetching the set when the rules allow.</summary>
    public async Task<VerificationKey> GetKeyAsync(string kid, CancellationToken cancellationToken)
    {
        Task? fetch;
        VerificationKey? stale;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var found = _keys.TryGetValue(kid, out stale);
            if (found && _fetchedAt is { } fetchedAt && now - fetchedAt < MaxAge)
            {
                return stale!;
            }

            if (_inFlight is not null)
            {
                fetch = _inFlight;
            }
            else if (_lastAttemptAt is not { } last || now - last >= MinRefetchInterval)
            {
                _lastAttemptAt = now;
                // Task.Run: the fetch's completion takes _gate, so it cannot finish before _inFlight is assigned here.
                fetch = _inFlight = Task.Run(FetchAsync, CancellationToken.None);
            }
            else
            {
                fetch = null;
            }
        }

        if (fetch is null)
        {
            // Refetch throttled: a known kid from an older set is still used (the last refresh attempt failed less than
            // 30 s ago); an unknown kid fails without refetch, as the JS SDK does.
            return stale ?? throw new SandboxTokenVerificationException(
                $"No signing key with kid '{SandboxTokenVerifier.Truncate(kid)}' is known, and the key set was fetched less than " +
                $"{MinRefetchInterval.TotalSeconds:0} s ago.");
        }

        // The shared fetch is not cancelled by one caller; the caller only stops waiting.
        await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            return _keys.TryGetValue(kid, out var key)
                ? key
                : throw new SandboxTokenVerificationException(
                    $"No signing key with kid '{SandboxTokenVerifier.Truncate(kid)}' in the key set from {_jwksUrl} (EdDSA and other unsupported keys are skipped).");
        }
    }

    private async Task FetchAsync()
    {
        try
        {
            var keys = await DownloadAsync().ConfigureAwait(false);
            lock (_gate)
            {
                _keys = keys;
                _fetchedAt = _time.GetUtcNow();
            }
        }
        finally
        {
            lock (_gate)
            {
                _inFlight = null;
            }
        }
    }

    private async Task<Dictionary<string, VerificationKey>> DownloadAsync()
    {
        byte[] body;
        try
        {
            using var response = await _http.GetAsync(_jwksUrl, CancellationToken.None).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new SandboxTokenVerificationException(
                    $"Fetching the key set from {_jwksUrl} failed with HTTP {(int)response.StatusCode}.")
                { StatusCode = (int)response.StatusCode };
            }

            body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            var reason = ex is TaskCanceledException ? "timed out" : "failed";
            throw new SandboxTokenVerificationException($"Fetching the key set from {_jwksUrl} {reason}.", ex);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("keys", out var keys)
                || keys.ValueKind != JsonValueKind.Array)
            {
                throw new SandboxTokenVerificationException(
                    $"The key set from {_jwksUrl} is not a JSON object with a 'keys' array.");
            }

            var result = new Dictionary<string, VerificationKey>(StringComparer.Ordinal);
            foreach (var jwk in keys.EnumerateArray())
            {
                if (VerificationKey.TryImport(jwk) is { } imported)
                {
                    result[imported.Kid] = imported.Key;
                }
            }

            return result;
        }
        catch (JsonException ex)
        {
            throw new SandboxTokenVerificationException($"The key set from {_jwksUrl} is not valid JSON.", ex);
        }
    }
}
