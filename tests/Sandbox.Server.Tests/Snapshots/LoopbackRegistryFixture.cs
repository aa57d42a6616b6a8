using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Snapshots;

/// <summary>
/// Two real registries (Debian's docker-registry) on 127.0.0.1: one with htpasswd basic auth, one with token auth served by
/// a tiny loopback token server here. Images are built with umoci and pushed with skopeo (tests/registry/loopback-registry.sh).
/// </summary>
public sealed class LoopbackRegistryFixture : IAsyncLifetime
{
    public const string BasicUser = "alice";
    public const string TokenUser = "bob";
    private readonly string _script = Path.Combine(AppContext.BaseDirectory, "registry", "loopback-registry.sh");
    private HttpListener? _tokenServer;
    private RSA? _signingKey;
    private X509Certificate2? _certificate;
    private Task? _tokenLoop;

    public string Work { get; } = Directory.CreateTempSubdirectory("loopback-registry-").FullName;

    public string BasicDir => Path.Combine(Work, "basic");

    public string TokenDir => Path.Combine(Work, "token");

    public string BasicPassword { get; } = "pw-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public string TokenPassword { get; } = "tk-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public int BasicPort { get; private set; }

    public int TokenPort { get; private set; }

    public int TokenRequests;

    public string BasicUrl => $"http://127.0.0.1:{BasicPort}";

    /// <summary>A request to store the basic-auth registry's credentials (<paramref name="password"/>: a wrong one to test that).</summary>
    public RegistryRequest BasicRegistry(string? password = null) => new()
    {
        Name = "basic-" + Guid.NewGuid().ToString("N")[..8],
        Url = BasicUrl,
        Username = BasicUser,
        Password = password ?? BasicPassword,
    };

    public async ValueTask InitializeAsync()
    {
        await RunAsync("image", BasicDir);
        BasicPort = int.Parse((await RunAsync("start", BasicDir, "basic", BasicUser, BasicPassword)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await RunAsync("push", BasicDir, BasicPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "mini", "mini:v1", $"{BasicUser}:{BasicPassword}");
        await RunAsync("push", BasicDir, BasicPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "mini", "minizstd:v1", $"{BasicUser}:{BasicPassword}", "zstd");
        await RunAsync("push", BasicDir, BasicPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "unique", "unique:v1", $"{BasicUser}:{BasicPassword}");

        Directory.CreateDirectory(TokenDir);
        Directory.CreateSymbolicLink(Path.Combine(TokenDir, "oci"), Path.Combine(BasicDir, "oci"));
        _signingKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=loopback-token-issuer", _signingKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        string certPath = Path.Combine(TokenDir, "token-ca.pem");
        await File.WriteAllTextAsync(certPath, _certificate.ExportCertificatePem());
        int tokenPort = FreePort();
        _tokenServer = new HttpListener();
        _tokenServer.Prefixes.Add($"http://127.0.0.1:{tokenPort}/");
        _tokenServer.Start();
        _tokenLoop = Task.Run(ServeTokensAsync);
        TokenPort = int.Parse((await RunAsync("start", TokenDir, "token", $"http://127.0.0.1:{tokenPort}/token", "loopback-registry", "loopback-token-issuer", certPath)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await RunAsync("push", TokenDir, TokenPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "mini", "private/mini:v1", $"{TokenUser}:{TokenPassword}");
    }

    public async ValueTask DisposeAsync()
    {
        await RunAsync("stop", BasicDir);
        await RunAsync("stop", TokenDir);
        _tokenServer?.Close();
        if (_tokenLoop is not null)
        {
            await _tokenLoop;
        }

        _signingKey?.Dispose();
        _certificate?.Dispose();
        Directory.Delete(Work, recursive: true);
    }

    /// <summary>The storage file of the last layer of OCI tag <paramref name="tag"/> in the basic registry.</summary>
    public async Task<string> BlobPathAsync(string tag) => (await RunAsync("blob-path", BasicDir, tag)).Trim();

    public async Task<string> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("bash", [_script, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"loopback-registry.sh {args[0]} failed ({process.ExitCode}): {await stderr}");
        }

        return await stdout;
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>Issues RS256 tokens (x5c = the self-signed certificate the registry trusts) to bob with the right password.</summary>
    private async Task ServeTokensAsync()
    {
        while (_tokenServer is { IsListening: true } listener)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            Interlocked.Increment(ref TokenRequests);
            using var response = context.Response;
            string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TokenUser}:{TokenPassword}"));
            if (context.Request.Headers["Authorization"] != expected)
            {
                response.StatusCode = 401;
                continue;
            }

            var access = (context.Request.QueryString.GetValues("scope") ?? [])
                .SelectMany(s => s.Split(' '))
                .Select(s => s.Split(':'))
                .Where(p => p.Length == 3)
                .Select(p => new { type = p[0], name = p[1], actions = p[2].Split(',') })
                .ToArray();
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            string header = B64(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT", x5c = new[] { Convert.ToBase64String(_certificate!.RawData) } }));
            string claims = B64(JsonSerializer.SerializeToUtf8Bytes(new
            {
                iss = "loopback-token-issuer",
                sub = TokenUser,
                aud = context.Request.QueryString["service"],
                exp = now + 300,
                nbf = now - 10,
                iat = now,
                jti = Guid.NewGuid().ToString("N"),
                access,
            }));
            string signature = B64(_signingKey!.SignData(Encoding.ASCII.GetBytes(header + "." + claims), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
            byte[] body = JsonSerializer.SerializeToUtf8Bytes(new { token = $"{header}.{claims}.{signature}" });
            response.ContentType = "application/json";
            await response.OutputStream.WriteAsync(body);
        }
    }

    private static string B64(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
