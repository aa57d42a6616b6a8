using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Samples.Tests;

/// <summary>An OTLP/HTTP traces endpoint on loopback that keeps every export request (body and API key header).</summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<(string? ApiKey, byte[] Body)> _exports = [];

    private OtlpReceiver(WebApplication app)
    {
        _app = app;
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
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var receiver = new OtlpReceiver(builder.Build());
        await receiver._app.StartAsync();
        receiver.Endpoint = receiver._app.Urls.First();
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
