using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Sandbox.Server.Networking;

/// <summary>
/// Creates sockets inside a box's network namespace. A dedicated OS thread (never a thread-pool thread) enters the
/// namespace with <c>setns(CLONE_NEWNET)</c>, creates the socket — a socket keeps the namespace it was created in —
/// and returns to the server's own namespace. Connecting, binding and listening then work from any thread, so the
/// server dials or listens on the box's loopback although no interface leaves the box.
/// </summary>
internal sealed partial class NetworkNamespaceSocketFactory : IDisposable
{
    private readonly BlockingCollection<WorkItem> _queue = new();
    private readonly Thread _thread;
    private readonly ILogger<NetworkNamespaceSocketFactory> _logger;

    public NetworkNamespaceSocketFactory(ILogger<NetworkNamespaceSocketFactory> logger)
    {
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "sandbox-netns" };
        _thread.Start();
    }

    /// <summary>Creates an unconnected TCP/IPv4 socket in the namespace at <paramref name="namespacePath"/>.</summary>
    /// <exception cref="IOException">The namespace cannot be entered (the box is gone or not running).</exception>
    public Task<Socket> CreateTcpSocketAsync(string namespacePath, CancellationToken cancellationToken = default)
    {
        var item = new WorkItem(namespacePath);
        using (cancellationToken.Register(static state => ((WorkItem)state!).Completion.TrySetCanceled(), item))
        {
            _queue.Add(item, cancellationToken);
        }

        return item.Completion.Task;
    }

    /// <summary>Connects to <c>127.0.0.1:<paramref name="port"/></c> inside the namespace.</summary>
    /// <exception cref="SocketException">Nothing listens on the port (connection refused) or the dial failed.</exception>
    public async Task<Socket> ConnectLoopbackAsync(string namespacePath, int port, CancellationToken cancellationToken = default)
    {
        var socket = await CreateTcpSocketAsync(namespacePath, cancellationToken).ConfigureAwait(false);
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Listens on <c>127.0.0.1:<paramref name="port"/></c> inside the namespace.</summary>
    public async Task<Socket> ListenLoopbackAsync(string namespacePath, int port, int backlog = 128, CancellationToken cancellationToken = default)
    {
        var socket = await CreateTcpSocketAsync(namespacePath, cancellationToken).ConfigureAwait(false);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(5));
        _queue.Dispose();
    }

    private void Run()
    {
        // The thread's own namespace, to return to after each socket; /proc/thread-self names this thread's view.
        using var home = File.OpenHandle("/proc/thread-self/ns/net");
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            if (item.Completion.Task.IsCompleted)
            {
                continue;
            }

            try
            {
                var socket = CreateIn(item.NamespacePath, home);
                if (!item.Completion.TrySetResult(socket))
                {
                    socket.Dispose();
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or SocketException)
            {
                item.Completion.TrySetException(ex);
            }
        }
    }

    private Socket CreateIn(string namespacePath, Microsoft.Win32.SafeHandles.SafeFileHandle home)
    {
        using var target = File.OpenHandle(namespacePath);
        if (NetworkNamespaceInterop.SetNs((int)target.DangerousGetHandle(), NetworkNamespaceInterop.CloneNewNet) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Cannot enter network namespace {namespacePath} (errno {errno}).");
        }

        try
        {
            return new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        }
        finally
        {
            if (NetworkNamespaceInterop.SetNs((int)home.DangerousGetHandle(), NetworkNamespaceInterop.CloneNewNet) != 0)
            {
                // A thread stuck in a box's namespace must never create another socket: fail loudly.
                LogReturnFailed(_logger, Marshal.GetLastPInvokeError());
                Environment.FailFast("sandbox-netns: cannot return to the server's network namespace.");
            }
        }
    }

    [LoggerMessage(EventId = 5100, Level = LogLevel.Critical, Message = "Cannot return to the server's network namespace (errno {Errno}).")]
    private static partial void LogReturnFailed(ILogger logger, int errno);

    private sealed class WorkItem(string namespacePath)
    {
        public string NamespacePath { get; } = namespacePath;

        public TaskCompletionSource<Socket> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
