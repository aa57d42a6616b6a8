using System.Diagnostics;

namespace Sandbox.Server.Tests.Networking;

/// <summary>A process in a fresh network namespace (loopback only, brought up) running a shell command; killed on dispose.</summary>
internal sealed class ScratchNetworkNamespace : IDisposable
{
    private readonly Process _process;

    private ScratchNetworkNamespace(Process process) => _process = process;

    public string NamespacePath => $"/proc/{_process.Id}/ns/net";

    public static ScratchNetworkNamespace Start(string shellCommand)
    {
        var info = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--net");
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("ip link set lo up && echo ready && exec " + shellCommand + " > /dev/null");
        var process = Process.Start(info)!;

        // "ready" is printed once the namespace exists and its loopback is up.
        var line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(10)) || line.Result != "ready")
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("The scratch network namespace did not come up.");
        }

        return new ScratchNetworkNamespace(process);
    }

    /// <summary>An echo server on <paramref name="port"/> inside the namespace.</summary>
    public static ScratchNetworkNamespace StartEchoServer(int port)
        => Start($"python3 -c \"{EchoScript(port)}\"");

    public void Dispose()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private static string EchoScript(int port) =>
        "import socket,threading\n" +
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1'," + port + ")); s.listen(16)\n" +
        "def h(c):\n" +
        "  while True:\n" +
        "    d=c.recv(65536)\n" +
        "    if not d: break\n" +
        "    c.sendall(d)\n" +
        "  c.close()\n" +
        "while True:\n" +
        "  c,_=s.accept(); threading.Thread(target=h,args=(c,),daemon=True).start()\n";
}
