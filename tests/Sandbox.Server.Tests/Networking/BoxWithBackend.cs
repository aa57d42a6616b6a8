using Sandbox.Server.Networking;

namespace Sandbox.Server.Tests.Networking;

/// <summary>A fake box: a scratch network namespace running backend.py on <see cref="Port"/>, serving a small multi-page site.</summary>
internal sealed class BoxWithBackend : IDisposable
{
    private readonly ScratchNetworkNamespace _namespace;

    private BoxWithBackend(string id, int port, string root, ScratchNetworkNamespace ns)
    {
        Id = id;
        Port = port;
        Root = root;
        _namespace = ns;
    }

    public string Id { get; }

    public int Port { get; }

    public string Root { get; }

    public string NamespacePath => _namespace.NamespacePath;

    public static async Task<BoxWithBackend> StartAsync(NetworkingTestServer server, string name = "web", bool startBackend = true)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var root = Directory.CreateTempSubdirectory("netbox-").FullName;
        await File.WriteAllTextAsync(Path.Combine(root, "index.html"), "<!doctype html><html><head><title>Home</title></head><body style=\"background:#2a6\"><h1>Home page</h1><a id=\"next\" href=\"/docs/page2.html\">Second page</a><script>if (location.search.includes('follow')) document.getElementById('next').click();</script></body></html>");
        Directory.CreateDirectory(Path.Combine(root, "docs"));
        await File.WriteAllTextAsync(Path.Combine(root, "docs", "page2.html"), "<!doctype html><html><head><title>Two</title><link rel=\"stylesheet\" href=\"/style.css\"></head><body><h1>Second page reached</h1><p id=\"marker\">served from inside the box</p></body></html>");
        await File.WriteAllTextAsync(Path.Combine(root, "style.css"), "body { background: #36c; color: #fff; font-size: 32px; }");
        var port = NetworkNamespaceSocketFactoryTests.FreeHostPort();
        var script = Path.Combine(AppContext.BaseDirectory, "Networking", "backend.py");
        var ns = startBackend
            ? ScratchNetworkNamespace.Start($"python3 {script} {port} {root}")
            : ScratchNetworkNamespace.Start("sleep 300");
        var box = new BoxWithBackend(id, port, root, ns);
        await NetworkNamespaceSocketFactoryTests.WaitForNamespaceAsync(ns);
        if (startBackend)
        {
            var factory = server.Services.GetService(typeof(NetworkNamespaceSocketFactory)) as NetworkNamespaceSocketFactory;
            (await NetworkNamespaceSocketFactoryTests.ConnectWithRetryAsync(factory!, ns.NamespacePath, port)).Dispose();
        }

        server.Boxes.Add(id, name, ns.NamespacePath, root);
        return box;
    }

    public void Dispose() => _namespace.Dispose();
}
