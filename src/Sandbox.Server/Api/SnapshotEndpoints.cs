using Sandbox.Protocol;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Api;

/// <summary>Control plane for snapshots: <c>{base}/snapshots...</c>.</summary>
internal static class SnapshotEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapPost("/snapshots", async (HttpRequest request, BoxManager boxes, CancellationToken ct) =>
        {
            var body = await ApiRequest.ReadJsonAsync<CreateSnapshotRequest>(request, ct).ConfigureAwait(false);
            var record = boxes.Snapshots.CreateFromImage(SnapshotRequestValidator.Create(body));
            return Results.Json(record.ToInfo(), SandboxJson.Options, statusCode: 201);
        });
        group.MapGet("/snapshots", (HttpRequest request, BoxManager boxes) =>
        {
            var query = request.Query;
            IEnumerable<Snapshots.SnapshotRecord> items = boxes.Snapshots.List();
            if (query["name_contains"].ToString() is { Length: > 0 } contains)
            {
                items = items.Where(s => s.Name.Contains(contains, StringComparison.OrdinalIgnoreCase));
            }

            if (query["status"].ToString() is { Length: > 0 } status)
            {
                items = items.Where(s => s.Status == status);
            }

            int offset = BoxEndpoints.ParseInt(query["offset"], "offset", 0, 0, int.MaxValue);
            int limit = BoxEndpoints.ParseInt(query["limit"], "limit", 50, 1, 500);
            var page = items.Skip(offset).Take(limit).Select(s => s.ToInfo()).ToList();
            return Results.Json(new SnapshotList { Snapshots = page, Offset = offset }, SandboxJson.Options);
        });
        group.MapGet("/snapshots/{id}", (string id, BoxManager boxes) =>
            Results.Json((boxes.Snapshots.Find(id) ?? throw ApiException.SnapshotNotFound(id)).ToInfo(), SandboxJson.Options));
        group.MapDelete("/snapshots/{id}", (string id, BoxManager boxes) =>
        {
            boxes.Snapshots.Delete(id, boxes.IsSnapshotInUse);
            return Results.NoContent();
        });
        group.MapGet("/snapshots-by-name/{name}", (string name, BoxManager boxes) =>
        {
            var matches = boxes.Snapshots.List().Where(s => s.Name == name).ToList();
            if (matches.Count == 0)
            {
                throw ApiException.SnapshotNotFound(name);
            }

            var newest = matches.OrderByDescending(s => s.CreatedAt).First();
            return Results.Json(new { name, tags = new[] { new { tag = "latest", snapshot_id = newest.Id } } }, SandboxJson.Options);
        });
    }
}
