using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Sandbox.Client.Tests.Infrastructure;

/// <summary>The server side of one <c>/execute/ws</c> connection, driven by a test script.</summary>
public sealed class ExecConnection(HttpContext context)
{
    private WebSocket? _socket;

    public HttpContext Context { get; } = context;

    /// <summary>Every value of every upgrade header (to check that a name went on the wire once).</summary>
    public IReadOnlyDictionary<string, string[]> RawHeaders { get; } =
        context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToArray()!, StringComparer.OrdinalIgnoreCase)!;

    public IReadOnlyDictionary<string, string> Headers { get; } =
        context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);

    /// <summary>Every frame the client sent on this connection.</summary>
    public ConcurrentQueue<JsonElement> Received { get; } = new();

    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public WebSocketCloseStatus? ClientCloseStatus { get; private set; }

    public async Task AcceptAsync() => _socket = await Context.WebSockets.AcceptWebSocketAsync();

    /// <summary>Rejects the upgrade with a plain HTTP response.</summary>
    public Task RejectAsync(int status, object? body = null, IDictionary<string, string>? headers = null) =>
        FakeSandboxServer.Respond(Context, status, body, headers);

    /// <summary>Accepts and reads the setup frame (<c>execute</c> or <c>reconnect</c>).</summary>
    public async Task<JsonElement> AcceptAndReadSetupAsync()
    {
        await AcceptAsync();
        return await ReceiveAsync() ?? throw new InvalidOperationException("client closed before setup");
    }

    public async Task<JsonElement?> ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket!.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                ClientCloseStatus = result.CloseStatus;
                Closed.TrySetResult();
                return null;
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                var element = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
                Received.Enqueue(element);
                return element;
            }
        }
    }

    /// <summary>Reads frames until the client closes (recording them).</summary>
    public async Task DrainAsync()
    {
        try
        {
            while (await ReceiveAsync() is not null)
            {
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            Closed.TrySetResult();
        }
    }

    public Task SendAsync(object frame) =>
        _socket!.SendAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(frame)), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendRawAsync(string text) =>
        _socket!.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task StartedAsync(string commandId, int pid = 42) => SendAsync(new { type = "started", command_id = commandId, pid });

    public Task StdoutAsync(string data, long offset) => SendAsync(new { type = "stdout", data, offset });

    public Task StderrAsync(string data, long offset) => SendAsync(new { type = "stderr", data, offset });

    public Task ExitAsync(int code) => SendAsync(new { type = "exit", exit_code = code });

    public Task ErrorAsync(string? errorType, string? error) =>
        errorType is null ? SendAsync(new { type = "error", error }) : SendAsync(new { type = "error", error_type = errorType, error });

    public async Task CloseAsync(WebSocketCloseStatus status = WebSocketCloseStatus.NormalClosure)
    {
        try
        {
            await _socket!.CloseOutputAsync(status, null, CancellationToken.None);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var buffer = new byte[1024];
            while (_socket.State is WebSocketState.CloseSent)
            {
                var result = await _socket.ReceiveAsync(buffer, timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
        }
    }

    /// <summary>Drops the TCP connection without a close frame.</summary>
    public void Abort() => _socket?.Abort();
}
