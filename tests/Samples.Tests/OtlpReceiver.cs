using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sandbox.Tests.Common;

namespace Samples.Tests;

/// <summary>An OTLP/HTTP traces endpoint on loopback that keeps every export request (body and API key header).</summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly List<(string? ApiKey, byte[] Body)> _exports = [];
    private KestrelTestHost _host = null!;

    private void Map(WebApplication app)
    {
        app.MapPost("/otel/v1/traces", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            lock (_exports)
            {
                _exports.Add((context.Request.Headers["x-api-key"].ToString(), body.ToArray()));
            }

            return Results.Ok();
        });
    }

    public string Endpoint { get; private set; } = "";

    public IReadOnlyList<(string? ApiKey, byte[] Body)> Exports
    {
        get
        {
            lock (_exports)
            {
                return [.. _exports];
            }
        }
    }

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        receiver._host = await KestrelTestHost.StartAsync(receiver.Map);
        receiver.Endpoint = receiver._host.Url;
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();
}
