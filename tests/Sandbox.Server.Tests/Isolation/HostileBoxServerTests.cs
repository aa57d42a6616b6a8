using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sandbox.Client;
using Sandbox.Protocol;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Tests.Isolation;

/// <summary>
/// A box (and a hostile API caller) attacking the server itself: deep trees, FIFOs, broken uploads, over-long paths,
/// crafted redirects and credentials sent towards a box. The server must answer clearly and stay up for everyone else.
/// </summary>
public sealed class HostileBoxServerTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task DeepTree_WalksAnswer422_ServerStaysUp_AndDeleteRemovesTheBoxDirectory()
    {
        var box = await fixture.Client.CreateSandboxAsync();
        await using var other = await fixture.Client.CreateSandboxAsync();
        var made = await box.RunAsync(
            "python3 -c \"import os\nos.chdir('/home/user')\nfor i in range(30000):\n    os.mkdir('d'); os.chdir('d')\nopen('leaf.txt', 'w').write('needle')\n\" && echo made",
            new RunOptions { Timeout = TimeSpan.FromMinutes(3) });
        Assert.Equal("made\n", made.Stdout);

        var glob = await Assert.ThrowsAnyAsync<SandboxException>(() => box.GlobAsync("**/leaf.txt", "/home/user"));
        Assert.Equal(422, glob.StatusCode);
        Assert.Contains("deeper than", glob.Message, StringComparison.Ordinal);
        var grep = await Assert.ThrowsAnyAsync<SandboxException>(() => box.GrepAsync("needle", "/home/user"));
        Assert.Equal(422, grep.StatusCode);

        // A shallow listing of the same directory still works, and so does everything else.
        var ls = await box.GlobAsync("*", "/home/user");
        Assert.Contains(ls.Matches, m => m.Path == "/home/user/d" && m.IsDir);
        Assert.Equal("alive\n", (await box.RunAsync("echo alive")).Stdout);
        await other.WriteFileAsync("/home/user/x/y.txt", "needle here");
        Assert.Single((await other.GrepAsync("needle", "/home/user")).Matches);

        string boxDirectory = Path.Combine(fixture.Server.DataDirectory, "boxes", box.Info.Id!);
        Assert.True(Directory.Exists(boxDirectory));
        // Removing 30,000 nested directories is slow on a busy disk: the delete answers once the box is unreachable and
        // the removal finishes in the background.
        var stopwatch = Stopwatch.StartNew();
        using var deleted = await fixture.Http.DeleteAsync($"/v2/sandboxes/boxes/{box.Info.Name}");
        var answered = stopwatch.Elapsed;
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.True(answered < TimeSpan.FromSeconds(20), $"delete answered after {answered}");
        using var gone = await fixture.Http.GetAsync($"/v2/sandboxes/boxes/{box.Info.Name}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await fixture.Server.Services.GetRequiredService<BoxManager>().WhenTeardownsDoneAsync().WaitAsync(TimeSpan.FromMinutes(5));
        Console.WriteLine($"deep tree: delete answered in {answered.TotalSeconds:F1} s, teardown done after {stopwatch.Elapsed.TotalSeconds:F1} s");
        Assert.False(Directory.Exists(boxDirectory), "the deep box directory stayed on disk after delete");
    }

    [Fact]
    public async Task FifoSocketAndDevice_AreRefusedAtOnce_And64FifoDownloadsDoNotDelayAnotherBox()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        await using var other = await fixture.Client.CreateSandboxAsync();
        var setup = await box.RunAsync(
            "mkfifo /home/user/fifo && python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.bind('/home/user/sock')\" && echo ok");
        Assert.Equal("ok\n", setup.Stdout);
        await other.WriteFileAsync("/home/user/data.bin", new byte[256 * 1024]);

        var stopwatch = Stopwatch.StartNew();
        var fifoDownloads = Enumerable.Range(0, 64)
            .Select(_ => fixture.Http.GetAsync($"/dp/{box.Info.Id}/download?path=/home/user/fifo"))
            .ToArray();
        var otherDownload = Stopwatch.StartNew();
        var data = await other.ReadFileAsync("/home/user/data.bin");
        otherDownload.Stop();
        Assert.Equal(256 * 1024, data.Length);
        var responses = await Task.WhenAll(fifoDownloads);
        stopwatch.Stop();
        foreach (var response in responses)
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("NotARegularFile", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            response.Dispose();
        }

        Assert.True(otherDownload.Elapsed < TimeSpan.FromSeconds(5), $"another box's download took {otherDownload.Elapsed}");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(30), $"64 FIFO downloads took {stopwatch.Elapsed}");

        foreach (string path in (string[])["/home/user/sock", "/dev/null", "/dev/zero"])
        {
            using var response = await fixture.Http.GetAsync($"/dp/{box.Info.Id}/download?path={path}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }

        // Uploading onto a FIFO is refused too (opening it for writing would wait for a reader), and grep skips it.
        using (var upload = await fixture.Http.PostAsync($"/dp/{box.Info.Id}/upload?path=/home/user/fifo", new ByteArrayContent("x"u8.ToArray())))
        {
            Assert.Equal(HttpStatusCode.BadRequest, upload.StatusCode);
        }

        await box.WriteFileAsync("/home/user/text.txt", "needle");
        var grep = await box.GrepAsync("needle", "/home/user");
        Assert.Equal("/home/user/text.txt", Assert.Single(grep.Matches).Path);

        // A download link to the FIFO answers at once as well.
        var link = await box.CreateDownloadUrlAsync("/home/user/fifo");
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var linkResponse = await plain.GetAsync(link.DownloadUrl);
        Assert.Equal(HttpStatusCode.NotFound, linkResponse.StatusCode);
    }

    [Fact]
    public async Task RejectedOrInterruptedUpload_LeavesTheOldFileUntouched()
    {
        await using var server = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => o.MaxUploadBytes = 1024 * 1024 });
        using var client = server.CreateClient();
        await using var box = await client.CreateSandboxAsync();
        await box.WriteFileAsync("/home/user/keep.txt", "original-bytes");
        using var http = new HttpClient { BaseAddress = server.LangSmithEndpoint };
        http.DefaultRequestHeaders.Add("X-Api-Key", server.ApiKey);

        // 413: a body over the limit without a Content-Length (chunked), so the server only notices while writing.
        using (var tooLarge = new HttpRequestMessage(HttpMethod.Post, $"/dp/{box.Info.Id}/upload?path=/home/user/keep.txt")
        {
            Content = new StreamContent(new ZeroStream(8L * 1024 * 1024)),
        })
        {
            using var response = await http.SendAsync(tooLarge);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        Assert.Equal("original-bytes", Encoding.UTF8.GetString(await box.ReadFileAsync("/home/user/keep.txt")));

        // Interrupted: the client sends half a body and disconnects.
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(IPAddress.Loopback, server.LangSmithEndpoint.Port);
            var stream = tcp.GetStream();
            string head = $"POST /dp/{box.Info.Id}/upload?path=/home/user/keep.txt HTTP/1.1\r\nHost: localhost\r\nX-Api-Key: {server.ApiKey}\r\nContent-Type: application/octet-stream\r\nContent-Length: 500000\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
            await stream.WriteAsync(new byte[100_000]);
            await stream.FlushAsync();
            await Task.Delay(500);
        }

        for (int i = 0; i < 50 && (await box.RunAsync("ls -A /home/user")).Stdout.Contains(".upload-", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal("original-bytes", Encoding.UTF8.GetString(await box.ReadFileAsync("/home/user/keep.txt")));
        Assert.Equal("keep.txt\n", (await box.RunAsync("ls -A /home/user")).Stdout);

        // A good upload replaces it and keeps its mode.
        await box.RunAsync("chmod 0751 /home/user/keep.txt");
        await box.WriteFileAsync("/home/user/keep.txt", "new");
        Assert.Equal("new", Encoding.UTF8.GetString(await box.ReadFileAsync("/home/user/keep.txt")));
        Assert.Equal("751\n", (await box.RunAsync("stat -c %a /home/user/keep.txt")).Stdout);
    }

    [Fact]
    public async Task OverLongSegmentsAndPaths_Answer400InvalidPath()
    {
        var box = await fixture.CreateBoxAsync();
        try
        {
            string longSegment = "/home/user/" + new string('a', 256);
            string longPath = "/home/user/" + string.Join('/', Enumerable.Repeat(new string('b', 200), 25));
            foreach (string path in (string[])[longSegment, longPath, longSegment + "/x.txt"])
            {
                using var download = await fixture.Http.GetAsync($"/dp/{box.Id}/download?path={Uri.EscapeDataString(path)}");
                Assert.Equal(HttpStatusCode.BadRequest, download.StatusCode);
                Assert.Contains("InvalidPath", await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                using var upload = await fixture.Http.PostAsync($"/dp/{box.Id}/upload?path={Uri.EscapeDataString(path)}", new ByteArrayContent([1]));
                Assert.Equal(HttpStatusCode.BadRequest, upload.StatusCode);
                using var glob = await fixture.Http.PostAsJsonAsync($"/dp/{box.Id}/glob", new { pattern = "*", path });
                Assert.Equal(HttpStatusCode.BadRequest, glob.StatusCode);
            }

            // 255 bytes is still a valid name.
            using var ok = await fixture.Http.PostAsync($"/dp/{box.Id}/upload?path=/home/user/{new string('c', 255)}", new ByteArrayContent([1]));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        finally
        {
            await fixture.DeleteBoxAsync(box.Name);
        }
    }

    [Fact]
    public async Task ServiceAuthRedirect_AcceptsOnlySameOriginPaths_WithoutControlCharacters()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        var url = await box.GetServiceUrlAsync(8000);
        // The path form of the login URL (the subdomain form needs a resolver that knows *.localhost).
        string browserUrl = $"{fixture.Server.LangSmithEndpoint.ToString().TrimEnd('/')}/svc/{box.Info.Id}--8000/_svc/auth?token={Uri.EscapeDataString(await url.GetTokenAsync())}";
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        var cases = new Dictionary<string, string>
        {
            ["/docs/page?x=1"] = "/docs/page?x=1",
            ["/\t/evil.example"] = "/",
            ["/\n/evil.example"] = "/",
            ["/ok\r\nSet-Cookie: a=b"] = "/",
            ["//evil.example"] = "/",
            ["/\\evil.example"] = "/",
            ["https://evil.example/"] = "/",
            ["/\u00e9"] = "/",
        };
        foreach (var (redirect, expected) in cases)
        {
            using var response = await http.GetAsync(browserUrl + "&redirect=" + Uri.EscapeDataString(redirect));
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            string location = response.Headers.Location!.OriginalString;
            Assert.EndsWith(expected, location, StringComparison.Ordinal);
            Assert.DoesNotContain("evil", location, StringComparison.Ordinal);
            Assert.False(response.Headers.Contains("Set-Cookie") && response.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("a=", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public async Task ServiceUrl_NeverForwardsTheApiKeyAuthorizationOrServerCookies_IntoTheBox()
    {
        await using var box = await fixture.Client.CreateSandboxAsync();
        await box.WriteFileAsync("/home/user/echo.py", """
            import json
            from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
            class H(BaseHTTPRequestHandler):
                def do_GET(self):
                    body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *a):
                    pass
            ThreadingHTTPServer(("127.0.0.1", 8000), H).serve_forever()
            """);
        await using var service = await box.StartCommandAsync("exec python3 /home/user/echo.py", new RunOptions { Timeout = TimeSpan.Zero });
        var url = await box.GetServiceUrlAsync(8000);

        foreach (bool upgrade in (bool[])[false, true])
        {
            Dictionary<string, string>? seen = null;
            for (int attempt = 0; attempt < 50 && seen is null; attempt++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "headers");
                request.Headers.TryAddWithoutValidation("X-Api-Key", fixture.Server.ApiKey);
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + fixture.Server.ApiKey);
                request.Headers.TryAddWithoutValidation("Cookie", "langsmith_sandbox_svc=secret-token; langsmith_sandbox_login=secret-login; sandbox_console=secret-session; sandbox_console_present=1; app=kept");
                request.Headers.TryAddWithoutValidation("X-App", "kept");
                if (upgrade)
                {
                    request.Headers.TryAddWithoutValidation("Connection", "Upgrade");
                    request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
                }

                using var response = await url.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    seen = JsonSerializer.Deserialize<Dictionary<string, string>>(await response.Content.ReadAsStringAsync());
                }
                else
                {
                    await Task.Delay(100);
                }
            }

            Assert.NotNull(seen);
            string all = string.Join("\n", seen!.Select(kv => kv.Key + ": " + kv.Value));
            Assert.DoesNotContain(fixture.Server.ApiKey, all, StringComparison.Ordinal);
            Assert.False(seen.ContainsKey("x-api-key"), all);
            Assert.False(seen.ContainsKey("authorization"), all);
            Assert.False(seen.ContainsKey("x-langsmith-sandbox-service-token"), all);
            Assert.DoesNotContain("secret-", all, StringComparison.Ordinal);
            Assert.Equal("app=kept", seen["cookie"]);
            Assert.Equal("kept", seen["x-app"]);
        }
    }

    /// <summary>A stream of zeros of a given length with no known length (sent chunked).</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _left = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = (int)Math.Min(count, _left);
            Array.Clear(buffer, offset, n);
            _left -= n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
