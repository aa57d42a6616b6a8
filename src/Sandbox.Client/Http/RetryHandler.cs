using System.Globalization;
using System.Net.Sockets;

namespace Sandbox.Client;

/// <summary>
/// The Python SDK's retrying transport (spec §4.1), applied to every HTTP request including POSTs: 502/503/504 and
/// connect failures sleep <c>min(2^a + U[0,1), 10)</c> s; 429 sleeps <c>RetryAfter * 2^a + U[0,1)</c> s; everything else
/// (500, 408, 409, read timeouts, …) is returned at once. Polly/Http.Resilience are not available, so this is hand-written.
/// </summary>
internal sealed class RetryHandler : DelegatingHandler
{
    /// <summary>Request option that disables retries (used for bodies that cannot be replayed).</summary>
    public static readonly HttpRequestOptionsKey<bool> NoRetry = new("Sandbox.NoRetry");

    private readonly SandboxRuntime _runtime;

    public RetryHandler(SandboxRuntime runtime, HttpMessageHandler inner)
        : base(inner)
    {
        _runtime = runtime;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var maxRetries = request.Options.TryGetValue(NoRetry, out var noRetry) && noRetry ? 0 : Math.Max(0, _runtime.Options.MaxRetries);
        for (var attempt = 0; ; attempt++)
        {
            var last = attempt >= maxRetries;
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsConnectFailure(ex, cancellationToken))
            {
                if (last)
                {
                    throw new SandboxConnectionException($"Failed to connect to server after {attempt + 1} attempts: {ex.Message}", ex);
                }

                var wait = ServerErrorDelay(attempt);
                Log.HttpRetry(_runtime.Logger, request.Method.Method, attempt + 1, 0, wait.TotalSeconds);
                await _runtime.DelayAsync(wait, cancellationToken).ConfigureAwait(false);
                continue;
            }

            var status = (int)response.StatusCode;
            TimeSpan delay;
            if (last)
            {
                return response;
            }
            else if (status is 502 or 503 or 504)
            {
                delay = ServerErrorDelay(attempt);
            }
            else if (status == 429)
            {
                delay = TimeSpan.FromSeconds((RetryAfterSeconds(response) * Math.Pow(2, attempt)) + _runtime.NextRandom());
            }
            else
            {
                return response;
            }

            response.Dispose();
            Log.HttpRetry(_runtime.Logger, request.Method.Method, attempt + 1, status, delay.TotalSeconds);
            await _runtime.DelayAsync(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan ServerErrorDelay(int attempt) =>
        TimeSpan.FromSeconds(Math.Min(Math.Pow(2, attempt) + _runtime.NextRandom(), 10));

    /// <summary><c>Retry-After</c> as float seconds; absent or unparseable → 1; negative → 0.</summary>
    internal static double RetryAfterSeconds(HttpResponseMessage response)
    {
        if (!response.Headers.NonValidated.TryGetValues("Retry-After", out var values))
        {
            return 1;
        }

        var raw = values.FirstOrDefault();
        if (raw is null || !double.TryParse(raw.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            || double.IsNaN(seconds) || double.IsInfinity(seconds))
        {
            return 1;
        }

        return Math.Max(0, seconds);
    }

    private static bool IsConnectFailure(Exception ex, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        return ex switch
        {
            HttpRequestException http => http.HttpRequestError is HttpRequestError.ConnectionError
                or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError
                || http.InnerException is SocketException,
            // SocketsHttpHandler.ConnectTimeout surfaces as a cancellation whose inner exception is a TimeoutException.
            OperationCanceledException { InnerException: TimeoutException } => true,
            _ => false,
        };
    }
}
