using System.Text;
using Sandbox.Protocol;
using Sandbox.Server.Commands;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Api;

/// <summary>Data plane execution: <c>POST /dp/{id}/execute</c> and the WebSocket <c>GET /dp/{id}/execute/ws</c>.</summary>
internal static class ExecuteEndpoints
{
    public static void Map(RouteGroupBuilder dataPlane)
    {
        dataPlane.MapPost("/execute", ExecuteAsync);
        dataPlane.MapGet("/execute/ws", ExecuteWebSocketAsync);
    }

    internal static Box FindBox(BoxManager boxes, string id) =>
        boxes.Find(id) ?? throw ApiException.Structured(404, "NotFound", $"Sandbox '{id}' not found");

    private static async Task<IResult> ExecuteAsync(string id, HttpRequest request, BoxManager boxes, CancellationToken ct)
    {
        var box = FindBox(boxes, id);
        var body = await ApiRequest.ReadJsonAsync<ExecuteRequest>(request, ct).ConfigureAwait(false);
        if (string.IsNullOrEmpty(body.Command))
        {
            throw ApiException.Validation("command", "command is required");
        }

        if (body.RunConfig is not null && (body.Env is not null || body.Cwd is not null))
        {
            throw ApiException.Structured(400, "InvalidRequest", "run_config cannot be combined with the deprecated env or cwd fields");
        }

        var running = await boxes.EnsureRunningAsync(box, ct).ConfigureAwait(false);
        var spec = CommandSpecBuilder.Build(box, running, boxes, new CommandStartRequest
        {
            CommandId = Guid.CreateVersion7().ToString("N"),
            Command = body.Command,
            Shell = body.Shell,
            Env = body.Env,
            Cwd = body.Cwd,
            RunConfig = body.RunConfig,
            CloseStdin = true,
            TimeoutSeconds = body.Timeout,
            IdleTimeoutSeconds = -1,
            TtlSeconds = 0,
        });
        CommandSession session;
        try
        {
            (session, _) = await boxes.StartCommandAsync(box, running, spec, ct).ConfigureAwait(false);
        }
        catch (CommandStartException e)
        {
            throw ApiException.Structured(500, "CommandError", e.Message);
        }

        try
        {
            await session.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            session.Kill();
            throw;
        }

        if (session.ErrorType == "CommandTimeout")
        {
            throw ApiException.Structured(408, "CommandTimeout", session.ErrorMessage ?? "Command timed out");
        }

        return Results.Json(new ExecuteResponse
        {
            Stdout = ReadAll(session.Stdout),
            Stderr = ReadAll(session.Stderr),
            ExitCode = session.ExitCode ?? -1,
        }, SandboxJson.Options);
    }

    private static string ReadAll(OutputBuffer buffer)
    {
        byte[] bytes = new byte[buffer.End - buffer.Start];
        int count = buffer.Read(buffer.Start, bytes, out long actual, out _);
        int skip = actual > 0 ? Utf8Chunker.LeadingContinuationBytes(bytes.AsSpan(0, count)) : 0;
        return Encoding.UTF8.GetString(bytes, skip, count - skip);
    }

    private static async Task<IResult> ExecuteWebSocketAsync(string id, HttpContext context, BoxManager boxes, ILoggerFactory loggers)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            throw ApiException.Structured(400, "InvalidRequest", "This endpoint needs a WebSocket upgrade");
        }

        var box = FindBox(boxes, id);
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        var handler = new ExecutionSocket(socket, box, boxes, loggers.CreateLogger("Sandbox.Server.Execution"));
        await handler.RunAsync(context.RequestAborted).ConfigureAwait(false);
        return Results.Empty;
    }
}
