using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;

namespace Sandbox.Server.Tests.Networking;

/// <summary>
/// Headless Chromium (Debian package <c>chromium</c>, installed by <c>eng/install-deps.sh --browser</c>) opens a
/// multi-page site served inside a box through its browser URL: token → cookie → redirect, then a link with an
/// absolute path and an absolute stylesheet, as a user's browser would.
/// </summary>
public sealed class BrowserServiceUrlTests : IAsyncLifetime
{
    private NetworkingTestServer _server = null!;
    private BoxWithBackend _box = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await NetworkingTestServer.StartAsync();
        _box = await BoxWithBackend.StartAsync(_server);
    }

    public async ValueTask DisposeAsync()
    {
        _box.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task BrowserUrl_LogsInFollowsALinkAndRendersTheSecondPage()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port });
        Assert.Contains(".localhost:", info.BrowserUrl, StringComparison.Ordinal);

        // Log in through the browser URL, land on "/?follow=1", whose script clicks the link to /docs/page2.html.
        var dom = await RunChromiumAsync("--dump-dom", info.BrowserUrl + "&redirect=" + Uri.EscapeDataString("/?follow=1"));
        Assert.Contains("Second page reached", dom, StringComparison.Ordinal);
        Assert.Contains("served from inside the box", dom, StringComparison.Ordinal);

        var screenshot = Path.Combine(Path.GetTempPath(), $"svc-{Guid.NewGuid():N}.png");
        try
        {
            await RunChromiumAsync("--screenshot=" + screenshot, "--window-size=800,600", info.BrowserUrl + "&redirect=" + Uri.EscapeDataString("/docs/page2.html"));
            var (width, firstPixel, distinct) = InspectPng(await File.ReadAllBytesAsync(screenshot));
            Assert.Equal(800, width);
            Assert.Equal((0x33, 0x66, 0xCC), firstPixel);
            Assert.True(distinct > 8, $"the screenshot looks blank ({distinct} distinct byte values)");
        }
        finally
        {
            File.Delete(screenshot);
        }
    }

    [Fact]
    public async Task ExpiredBrowserUrl_ShowsTheLinkExpiredPage()
    {
        var info = await _server.MintServiceUrlAsync("web", new { port = _box.Port, expires_in_seconds = 5 });
        _server.Time.Advance(TimeSpan.FromSeconds(6));
        var dom = await RunChromiumAsync("--dump-dom", info.BrowserUrl!);
        Assert.Contains("Link expired", dom, StringComparison.Ordinal);
    }

    internal static async Task<string> RunChromiumAsync(params string[] arguments)
    {
        var profile = Directory.CreateTempSubdirectory("chromium-").FullName;
        try
        {
            var info = new ProcessStartInfo("chromium") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var flag in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile,
            })
            {
                info.ArgumentList.Add(flag);
            }

            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("chromium did not finish in 90 s: " + await stderr);
            }

            return await stdout;
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    /// <summary>Width, the first pixel's RGB (always stored unfiltered-equivalent in row 0) and the number of distinct decoded bytes.</summary>
    internal static (int Width, (int, int, int) FirstPixel, int Distinct) InspectPng(byte[] png)
    {
        Assert.True(png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "not a PNG");
        var width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
        var idat = new MemoryStream();
        for (var offset = 8; offset < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            if (png.AsSpan(offset + 4, 4).SequenceEqual("IDAT"u8))
            {
                idat.Write(png, offset + 8, length);
            }

            offset += 12 + length;
        }

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        var pixels = inflated.ToArray();
        return (width, (pixels[1], pixels[2], pixels[3]), pixels.Distinct().Count());
    }
}
