using Sandbox.Protocol;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Api;

/// <summary>Registries (spec §6.17, delta §4.7): <c>{base}/registries...</c>; credentials are accepted, never returned.</summary>
internal static class RegistryEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapPost("/registries", async (HttpRequest request, BoxManager boxes, CancellationToken ct) =>
        {
            var body = await ApiRequest.ReadJsonAsync<RegistryRequest>(request, ct).ConfigureAwait(false);
            return Results.Json(boxes.Snapshots.Registries.Create(body).ToInfo(), SandboxJson.Options, statusCode: 201);
        });
        group.MapGet("/registries", (HttpRequest request, BoxManager boxes) =>
        {
            var query = request.Query;
            IEnumerable<Snapshots.Registry.RegistryRecord> items = boxes.Snapshots.Registries.List();
            if (query["name_contains"].ToString() is { Length: > 0 } contains)
            {
                items = items.Where(r => r.Name.Contains(contains, StringComparison.OrdinalIgnoreCase));
            }

            int offset = BoxEndpoints.ParseInt(query["offset"], "offset", 0, 0, int.MaxValue);
            int limit = BoxEndpoints.ParseInt(query["limit"], "limit", 50, 1, 500);
            if (query["page_size"].ToString() is { Length: > 0 })
            {
                limit = BoxEndpoints.ParseInt(query["page_size"], "page_size", 50, 1, 500);
            }

            var page = items.Skip(offset).Take(limit).Select(r => r.ToInfo()).ToList();
            return Results.Json(new { registries = page, items = page, offset, next_cursor = (string?)null }, SandboxJson.Options);
        });
        group.MapGet("/registries/{name}", (string name, BoxManager boxes) =>
            Results.Json(boxes.Snapshots.Registries.Get(name).ToInfo(), SandboxJson.Options));
        group.MapPatch("/registries/{name}", async (string name, HttpRequest request, BoxManager boxes, CancellationToken ct) =>
        {
            var body = await ApiRequest.ReadJsonAsync<RegistryRequest>(request, ct).ConfigureAwait(false);
            return Results.Json(boxes.Snapshots.Registries.Update(name, body).ToInfo(), SandboxJson.Options);
        });
        group.MapDelete("/registries/{name}", (string name, BoxManager boxes) =>
        {
            boxes.Snapshots.Registries.Delete(name);
            return Results.NoContent();
        });
    }
}
