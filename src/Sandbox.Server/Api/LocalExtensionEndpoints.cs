using Sandbox.Protocol;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Api;

/// <summary>
/// Read-only data-plane endpoints the local server adds to the protocol (same API key as every route; documented in
/// the server README as local-server extensions): <c>GET {dp}/stats</c> (live CPU, memory, pids and disk use of the
/// box) and <c>GET {dp}/commands</c> (the box's recent commands and their status).
/// </summary>
internal static class LocalExtensionEndpoints
{
    private const int MaxCommands = 100;

    public static void Map(RouteGroupBuilder dataPlane)
    {
        dataPlane.MapGet("/stats", (string id, BoxManager boxes) =>
            Results.Json(BoxStatsReader.Read(ExecuteEndpoints.FindBox(boxes, id), boxes), SandboxJson.Options));
        dataPlane.MapGet("/commands", (string id, BoxManager boxes) =>
        {
            var box = ExecuteEndpoints.FindBox(boxes, id);
            var sessions = box.Running?.Commands.All ?? [];
            var items = sessions.OrderByDescending(s => s.StartedAt).Take(MaxCommands).Select(s => new CommandSummary
            {
                CommandId = s.CommandId,
                Command = s.Spec.Command,
                Pty = s.Spec.Pty,
                Pid = s.Pid,
                StartedAt = Timestamps.Format(s.StartedAt),
                Status = !s.IsFinished ? "running" : s.ErrorType is not null ? "error" : s.WasKilled ? "killed" : "exited",
                ExitCode = s.IsFinished ? s.ExitCode : null,
                ErrorType = s.ErrorType,
            }).ToList();
            return Results.Json(new CommandList { Commands = items }, SandboxJson.Options);
        });
    }

    /// <summary>Body of <c>GET {dp}/commands</c>.</summary>
    internal sealed record CommandList
    {
        public IReadOnlyList<CommandSummary> Commands { get; init; } = [];
    }

    /// <summary>One command in <see cref="CommandList"/>.</summary>
    internal sealed record CommandSummary
    {
        public string CommandId { get; init; } = "";

        public string Command { get; init; } = "";

        public bool Pty { get; init; }

        public int Pid { get; init; }

        public string? StartedAt { get; init; }

        /// <summary><c>running</c>, <c>exited</c>, <c>killed</c> or <c>error</c> (e.g. CommandTimeout).</summary>
        public string Status { get; init; } = "";

        public int? ExitCode { get; init; }

        public string? ErrorType { get; init; }
    }
}
