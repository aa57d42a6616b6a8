using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Sandbox.Tests.Common;

/// <summary>
/// A real Kestrel server on 127.0.0.1 and a free port for fakes and receivers in tests (an upstream, a fake sandbox API,
/// a fake OpenAI endpoint, an OTLP receiver): slim builder, logging off, started before it is returned.
/// </summary>
public sealed class KestrelTestHost : IAsyncDisposable
{
    private KestrelTestHost(WebApplication app)
    {
        App = app;
        Url = app.Urls.First().TrimEnd('/');
        BaseAddress = new Uri(Url);
    }

    public WebApplication App { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>The first address, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public string Url { get; }

    public Uri BaseAddress { get; }

    /// <param name="configure">Middleware and endpoints.</param>
    /// <param name="services">Services and other builder settings.</param>
    /// <param name="listen">Replaces the default single plain-HTTP loopback listener (e.g. to add HTTPS).</param>
    public static async Task<KestrelTestHost> StartAsync(
        Action<WebApplication> configure, Action<WebApplicationBuilder>? services = null, Action<KestrelServerOptions>? listen = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(listen ?? (k => k.Listen(IPAddress.Loopback, 0)));
        services?.Invoke(builder);
        WebApplication app = builder.Build();
        configure(app);
        await app.StartAsync();
        return new KestrelTestHost(app);
    }

    /// <summary>Stops gracefully (open connections get up to 5 s), then disposes.</summary>
    public async ValueTask DisposeAsync()
    {
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await App.StopAsync(grace.Token);
        }

        await App.DisposeAsync();
    }
}
