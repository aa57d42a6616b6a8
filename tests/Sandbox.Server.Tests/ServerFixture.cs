using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Sandbox.Protocol;
using Sandbox.Tests.Common;

namespace Sandbox.Server.Tests;

/// <summary>One embedded server per test class (boxes are cheap; the server start is not free), with raw-API helpers.</summary>
public sealed class ServerFixture : EmbeddedServerFixture
{
    protected override LocalSandboxServerOptions CreateOptions(ILoggerFactory? loggerFactory) => new()
    {
        Configure = o => o.OutputBufferBytes = 256 * 1024,
        LoggerFactory = loggerFactory,
    };

    /// <summary>Creates a box through the raw API and returns its info.</summary>
    public async Task<SandboxInfo> CreateBoxAsync(object? body = null)
    {
        using var response = await Http.PostAsJsonAsync("/v2/sandboxes/boxes", body ?? new { wait_for_ready = true });
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"create failed: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<SandboxInfo>(text, SandboxJson.Options)!;
    }

    public async Task DeleteBoxAsync(string name)
    {
        using var response = await Http.DeleteAsync($"/v2/sandboxes/boxes/{name}");
    }

    /// <summary>Runs a command over HTTP /execute.</summary>
    public async Task<ExecuteResponse> ExecAsync(string boxId, string command, int timeout = 60)
    {
        using var response = await Http.PostAsJsonAsync($"/dp/{boxId}/execute", new { command, timeout });
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"execute failed: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<ExecuteResponse>(text, SandboxJson.Options)!;
    }

    /// <summary>Runs <paramref name="command"/> with /bin/sh in a new box of snapshot <paramref name="snapshotName"/>, then deletes the box.</summary>
    public async Task<ExecuteResponse> ShInNewBoxAsync(string snapshotName, string command)
    {
        var box = await CreateBoxAsync(new { wait_for_ready = true, snapshot_name = snapshotName });
        try
        {
            using var response = await Http.PostAsJsonAsync($"/dp/{box.Id}/execute", new { command, shell = "/bin/sh" });
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            return JsonSerializer.Deserialize<ExecuteResponse>(text, SandboxJson.Options)!;
        }
        finally
        {
            await DeleteBoxAsync(box.Name);
        }
    }

    public async Task<ClientWebSocket> ConnectAsync(string boxId)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Api-Key", Server.ApiKey);
        var uri = new Uri(Server.LangSmithEndpoint.ToString().Replace("http://", "ws://", StringComparison.Ordinal) + $"dp/{boxId}/execute/ws");
        await socket.ConnectAsync(uri, CancellationToken.None);
        return socket;
    }

    public static Task SendAsync(ClientWebSocket socket, object frame) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame, SandboxJson.Options), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Receives one frame (null when the socket closed).</summary>
    public static async Task<ExecutionServerFrame?> ReceiveAsync(ClientWebSocket socket, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var buffer = new byte[1 << 20];
        int filled = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(filled), cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            filled += result.Count;
            if (result.EndOfMessage)
            {
                return JsonSerializer.Deserialize<ExecutionServerFrame>(buffer.AsSpan(0, filled), SandboxJson.Options);
            }
        }
    }

    /// <summary>Reads frames until exit/error/close; returns all frames.</summary>
    public static async Task<List<ExecutionServerFrame>> ReadToEndAsync(ClientWebSocket socket, TimeSpan? timeout = null)
    {
        var frames = new List<ExecutionServerFrame>();
        while (await ReceiveAsync(socket, timeout) is { } frame)
        {
            frames.Add(frame);
            if (frame.Type is "exit" or "error")
            {
                break;
            }
        }

        return frames;
    }

    public static string Collect(IEnumerable<ExecutionServerFrame> frames, string type) =>
        string.Concat(frames.Where(f => f.Type == type).Select(f => f.Data));

    /// <summary>Runs a command over the WebSocket and returns every frame.</summary>
    public async Task<List<ExecutionServerFrame>> RunWsAsync(string boxId, string command, object? extra = null)
    {
        using var socket = await ConnectAsync(boxId);
        var frame = new Dictionary<string, object?>
        {
            ["type"] = "execute",
            ["command"] = command,
            ["timeout_seconds"] = 60,
            ["command_id"] = Guid.NewGuid().ToString("N"),
        };
        if (extra is not null)
        {
            foreach (var p in extra.GetType().GetProperties())
            {
                frame[p.Name] = p.GetValue(extra);
            }
        }

        await SendAsync(socket, frame);
        return await ReadToEndAsync(socket);
    }

    public static string Text(string value) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(value));
}
