using System.Text.Json;
using Sandbox.Protocol;

namespace Sandbox.Server.Api;

/// <summary>Reads and validates JSON request bodies with clear 413 / 422 errors.</summary>
internal static class ApiRequest
{
    public const int MaxJsonBytes = 1024 * 1024;

    public static async Task<T> ReadJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : new()
    {
        if (request.ContentLength > MaxJsonBytes)
        {
            throw TooLarge();
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16384];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxJsonBytes)
            {
                throw TooLarge();
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0 || buffer.ToArray().All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
        {
            return new T();
        }

        try
        {
            return JsonSerializer.Deserialize<T>(buffer.ToArray(), SandboxJson.Options) ?? new T();
        }
        catch (JsonException e)
        {
            string field = e.Path is { Length: > 2 } path ? path.TrimStart('$', '.') : "body";
            throw ApiException.Validation(field, $"Malformed JSON request body: {e.Message}");
        }
    }

    private static ApiException TooLarge() =>
        ApiException.Structured(413, "PayloadTooLarge", $"Request body exceeds the limit of {MaxJsonBytes} bytes");

    /// <summary>The URL prefix this server is reached at (used to build dataplane_url).</summary>
    public static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";
}
