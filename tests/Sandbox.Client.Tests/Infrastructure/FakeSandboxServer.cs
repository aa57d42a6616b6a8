using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sandbox.Protocol;
using Sandbox.Tests.Common;

namespace Sandbox.Client.Tests.Infrastructure;

/// <summary>
/// An in-process fake of the sandbox API on real Kestrel (loopback, port 0) with real WebSockets. Every HTTP request is
/// recorded; responses are scripted per test with <see cref="On"/> (first matching rule with uses left wins) and
/// WebSocket connections to <c>/dp/{box}/execute/ws</c> are served by a queue of scripts (<see cref="OnExecute"/>).
/// </summary>
public sealed class FakeSandboxServer : IAsyncDisposable
{
    private KestrelTestHost _host = null!;
    private readonly List<Rule> _rules = [];
    private readonly List<Func<HttpContext, RecordedRequest, Task<bool>>> _catchAll = [];
    private readonly ConcurrentQueue<Func<ExecConnection, Task>> _execScripts = new();
    private Func<ExecConnection, Task>? _defaultExec;

    public string Url { get; private set; } = "";

    /// <summary>The data-plane URL the fake hands out for box <c>sb-1</c>.</summary>
    public string Dataplane => Url + "/dp/sb-1";

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public ConcurrentQueue<ExecConnection> ExecConnections { get; } = new();

    public static async Task<FakeSandboxServer> StartAsync()
    {
        var server = new FakeSandboxServer();
        server._host = await KestrelTestHost.StartAsync(app =>
        {
            app.UseWebSockets();
            app.Run(server.HandleAsync);
        });
        server.Url = server._host.Url;
        return server;
    }

    public SandboxClient CreateClient(Action<SandboxClientOptions>? configure = null) => new(CreateOptions(configure));

    public SandboxClientOptions CreateOptions(Action<SandboxClientOptions>? configure = null)
    {
        var options = new SandboxClientOptions
        {
            Endpoint = new Uri(Url),
            ApiKey = "test-key",
            DelayOverride = (_, _) => Task.CompletedTask,
            RandomSource = () => 0.5,
        };
        configure?.Invoke(options);
        return options;
    }

    public SandboxInfo Box(string name = "sb-1", string status = "ready") =>
        new() { Id = "550e8400-e29b-41d4-a716-446655440003", Name = name, Status = status, DataplaneUrl = Dataplane };

    public SandboxInstance Instance(SandboxClient client, string? dataplane = null) =>
        client.GetSandbox(Box() with { DataplaneUrl = dataplane ?? Dataplane });

    /// <summary>Scripts a response for <paramref name="method"/> <paramref name="path"/> (exact path, query ignored).
    /// <paramref name="times"/> = how many requests it answers (0 = unlimited).</summary>
    public FakeSandboxServer On(string method, string path, Func<HttpContext, RecordedRequest, Task> handler, int times = 0)
    {
        lock (_rules)
        {
            _rules.Add(new Rule(method, path, handler, times));
        }

        return this;
    }

    public FakeSandboxServer OnJson(string method, string path, int status, object? body, int times = 0) =>
        On(method, path, (context, _) => Respond(context, status, body), times);

    /// <summary>A catch-all hook tried before the rules; returns true when it answered.</summary>
    public void OnAny(Func<HttpContext, RecordedRequest, Task<bool>> handler)
    {
        lock (_rules)
        {
            _catchAll.Add(handler);
        }
    }

    public void OnExecute(Func<ExecConnection, Task> script) => _execScripts.Enqueue(script);

    public void OnEveryExecute(Func<ExecConnection, Task> script) => _defaultExec = script;

    public IReadOnlyList<RecordedRequest> RequestsTo(string path) => [.. Requests.Where(r => r.Path == path)];

    public static async Task Respond(HttpContext context, int status, object? body, IDictionary<string, string>? headers = null)
    {
        context.Response.StatusCode = status;
        foreach (var header in headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[header.Key] = header.Value;
        }

        if (body is null)
        {
            return;
        }

        var bytes = body is string text ? Encoding.UTF8.GetBytes(text) : JsonSerializer.SerializeToUtf8Bytes(body, SandboxJson.Options);
        context.Response.ContentType = body is string ? "text/plain" : "application/json";
        await context.Response.Body.WriteAsync(bytes);
    }

    public static object Detail(string error, string message, string? errorId = null) =>
        new Dictionary<string, object?> { ["detail"] = errorId is null
            ? new Dictionary<string, object?> { ["error"] = error, ["message"] = message }
            : new Dictionary<string, object?> { ["error"] = error, ["message"] = message, ["error_id"] = errorId } };

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (path.EndsWith("/execute/ws", StringComparison.Ordinal))
        {
            await HandleExecuteAsync(context);
            return;
        }

        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(context.Request.Method, path, context.Request.QueryString.Value ?? "", headers, buffer.ToArray());
        Requests.Enqueue(recorded);
        List<Func<HttpContext, RecordedRequest, Task<bool>>> hooks;
        lock (_rules)
        {
            hooks = [.. _catchAll];
        }

        foreach (var hook in hooks)
        {
            if (await hook(context, recorded))
            {
                return;
            }
        }

        Rule? rule;
        lock (_rules)
        {
            rule = _rules.FirstOrDefault(r => r.Method == context.Request.Method && r.Path == path && (r.Times == 0 || r.Used < r.Times));
            if (rule is not null)
            {
                rule.Used++;
            }
        }

        if (rule is null)
        {
            await Respond(context, 599, new { detail = $"no rule for {context.Request.Method} {path}" });
            return;
        }

        await rule.Handler(context, recorded);
    }

    private async Task HandleExecuteAsync(HttpContext context)
    {
        var script = _execScripts.TryDequeue(out var next) ? next : _defaultExec;
        var connection = new ExecConnection(context);
        ExecConnections.Enqueue(connection);
        if (script is null)
        {
            context.Response.StatusCode = 599;
            return;
        }

        try
        {
            await script(connection);
        }
        catch (Exception ex) when (ex is System.Net.WebSockets.WebSocketException or OperationCanceledException or IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
    }

    private sealed class Rule(string method, string path, Func<HttpContext, RecordedRequest, Task> handler, int times)
    {
        public string Method { get; } = method;

        public string Path { get; } = path;

        public Func<HttpContext, RecordedRequest, Task> Handler { get; } = handler;

        public int Times { get; } = times;

        public int Used { get; set; }
    }
}
