using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace CodeInterpreterAgent.Agent;

/// <summary>Fetches the web app from the host through its browser URL, as a person's browser would.</summary>
internal static class WebAppProbe
{
    /// <summary>Opens the browser URL (token exchanged for a cookie by redirect), then <c>/api/totals</c> and <c>/chart.png</c> next to it.</summary>
    public static async Task<WebAppCheck> FetchAsync(string browserUrl, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler
        {
            CookieContainer = new CookieContainer(),
            AllowAutoRedirect = true,
            ConnectCallback = ConnectAsync,
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(20) };
        using HttpResponseMessage page = await http.GetAsync(new Uri(browserUrl), cancellationToken);
        string html = await page.Content.ReadAsStringAsync(cancellationToken);
        Uri pageUri = page.RequestMessage?.RequestUri ?? new Uri(browserUrl);
        var check = new WebAppCheck(browserUrl, (int)page.StatusCode, html);
        if (!page.IsSuccessStatusCode)
        {
            return check;
        }

        using HttpResponseMessage api = await http.GetAsync(new Uri(pageUri, "api/totals"), cancellationToken);
        if (api.IsSuccessStatusCode)
        {
            using JsonDocument doc = JsonDocument.Parse(await api.Content.ReadAsStringAsync(cancellationToken));
            check.Totals = doc.RootElement.ValueKind == JsonValueKind.Object
                ? doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDecimal(), StringComparer.Ordinal)
                : null;
        }

        using HttpResponseMessage chart = await http.GetAsync(new Uri(pageUri, "chart.png"), cancellationToken);
        if (chart.IsSuccessStatusCode)
        {
            check.ChartBytes = await chart.Content.ReadAsByteArrayAsync(cancellationToken);
        }

        return check;
    }

    // Service URLs use subdomains of localhost ({box}--{port}.localhost); RFC 6761 says they are loopback, but not every
    // resolver agrees, so they are dialed on loopback directly.
    private static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        DnsEndPoint target = context.DnsEndPoint;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (target.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) || target.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, target.Port), cancellationToken);
            }
            else
            {
                await socket.ConnectAsync(target, cancellationToken);
            }

            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
