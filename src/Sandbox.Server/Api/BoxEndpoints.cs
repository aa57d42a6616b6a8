using System.Globalization;
using Sandbox.Protocol;
using Sandbox.Server.Runtime;

namespace Sandbox.Server.Api;

/// <summary>Control plane for boxes: <c>{base}/boxes...</c>.</summary>
internal static class BoxEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapPost("/boxes", CreateAsync);
        group.MapGet("/boxes", List);
        group.MapGet("/boxes/{name}", (string name, BoxManager boxes, HttpRequest request) =>
            Results.Json(boxes.Get(name).ToInfo(ApiRequest.BaseUrl(request)), SandboxJson.Options));
        group.MapPatch("/boxes/{name}", UpdateAsync);
        group.MapDelete("/boxes/{name}", async (string name, BoxManager boxes, CancellationToken ct) =>
        {
            var box = boxes.Get(name);
            await boxes.DeleteAsync(box, ct).ConfigureAwait(false);
            boxes.DockerfileBuilds.Forget(box);
            return Results.NoContent();
        });
        group.MapGet("/boxes/{name}/status", (string name, BoxManager boxes) =>
        {
            var record = boxes.Get(name).Record;
            return Results.Json(new SandboxStatusInfo { Status = record.Status, StatusMessage = record.StatusMessage }, SandboxJson.Options);
        });
        group.MapPost("/boxes/{name}/start", async (string name, BoxManager boxes, HttpRequest request, CancellationToken ct) =>
        {
            var box = boxes.Get(name);
            await boxes.StartAsync(box, ct).ConfigureAwait(false);
            return Results.Json(box.ToInfo(ApiRequest.BaseUrl(request)), SandboxJson.Options, statusCode: 202);
        });
        group.MapPost("/boxes/{name}/stop", async (string name, BoxManager boxes, CancellationToken ct) =>
        {
            await boxes.StopAsync(boxes.Get(name), null, ct).ConfigureAwait(false);
            return Results.NoContent();
        });
        group.MapPost("/boxes/{name}/snapshot", CaptureAsync);
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, BoxManager boxes, CancellationToken ct)
    {
        var body = await ApiRequest.ReadJsonAsync<CreateSandboxRequest>(request, ct).ConfigureAwait(false);
        boxes.ThrowIfUnavailable();
        var box = await boxes.CreateAsync(BoxRequestValidator.Create(body), ct).ConfigureAwait(false);
        return Results.Json(box.ToInfo(ApiRequest.BaseUrl(request)), SandboxJson.Options, statusCode: 201);
    }

    private static IResult List(HttpRequest request, BoxManager boxes)
    {
        var query = request.Query;
        IEnumerable<Box> items = boxes.List();
        if (query["name_contains"].ToString() is { Length: > 0 } contains)
        {
            items = items.Where(b => b.Name.Contains(contains, StringComparison.OrdinalIgnoreCase));
        }

        if (query["status"].ToString() is { Length: > 0 } status)
        {
            items = items.Where(b => b.Record.Status == status);
        }

        foreach (string? label in query["label"])
        {
            if (string.IsNullOrEmpty(label))
            {
                continue;
            }

            int eq = label.IndexOf('=', StringComparison.Ordinal);
            string key = eq < 0 ? label : label[..eq];
            string? value = eq < 0 ? null : label[(eq + 1)..];
            items = items.Where(b => b.Record.Labels is { } labels && labels.TryGetValue(key, out string? v) && (value is null || v == value));
        }

        bool descending = string.Equals(query["sort_direction"], "desc", StringComparison.OrdinalIgnoreCase);
        items = query["sort_by"].ToString() switch
        {
            "name" => descending ? items.OrderByDescending(b => b.Name, StringComparer.Ordinal) : items.OrderBy(b => b.Name, StringComparer.Ordinal),
            "status" => descending ? items.OrderByDescending(b => b.Record.Status, StringComparer.Ordinal) : items.OrderBy(b => b.Record.Status, StringComparer.Ordinal),
            _ => descending ? items.OrderByDescending(b => b.Record.CreatedAt) : items.OrderBy(b => b.Record.CreatedAt),
        };
        int offset = ParseInt(query["offset"], "offset", 0, 0, int.MaxValue);
        int limit = ParseInt(query["limit"], "limit", 1000, 1, 1000);
        string baseUrl = ApiRequest.BaseUrl(request);
        var page = items.Skip(offset).Take(limit).Select(b => b.ToInfo(baseUrl)).ToList();
        return Results.Json(new SandboxList { Sandboxes = page, Offset = offset }, SandboxJson.Options);
    }

    internal static int ParseInt(string? value, string name, int fallback, int min, int max)
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }

        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int parsed) || parsed < min || parsed > max)
        {
            throw ApiException.Validation(name, $"{name} must be an integer between {min} and {max}");
        }

        return parsed;
    }

    private static async Task<IResult> UpdateAsync(string name, HttpRequest request, BoxManager boxes, CancellationToken ct)
    {
        var body = await ApiRequest.ReadJsonAsync<UpdateSandboxRequest>(request, ct).ConfigureAwait(false);
        var box = boxes.Get(name);
        box = await boxes.UpdateAsync(box, BoxRequestValidator.Update(body), ct).ConfigureAwait(false);
        return Results.Json(box.ToInfo(ApiRequest.BaseUrl(request)), SandboxJson.Options);
    }

    private static async Task<IResult> CaptureAsync(string name, HttpRequest request, BoxManager boxes, CancellationToken ct)
    {
        var box = boxes.Get(name);
        var body = await ApiRequest.ReadJsonAsync<CaptureSnapshotRequest>(request, ct).ConfigureAwait(false);
        if (body.DockerImage is not null)
        {
            if (boxes.DockerfileBuilds.FindBuilt(box, body.DockerImage) is { } built)
            {
                RunConfigs.Validate(body.RunConfig, "run_config");
                boxes.DockerfileBuilds.Adopt(built, body.DockerImage, SnapshotRequestValidator.Name(body.Name), body.FsCapacityBytes, body.RunConfig);
                return Results.Json(built.ToInfo(), SandboxJson.Options, statusCode: 201);
            }

            throw ApiException.Validation("docker_image", "docker_image export is not supported by the local sandbox server (there is no Docker engine inside its sandboxes): only the tag of a Dockerfile build run in this sandbox can be captured; omit it to capture the sandbox's filesystem");
        }

        if (!box.Record.Persistent)
        {
            throw ApiException.Validation("name", "A non-persistent sandbox cannot be captured as a filesystem snapshot");
        }

        string snapshotName = SnapshotRequestValidator.Name(body.Name);
        var running = await boxes.EnsureRunningAsync(box, ct).ConfigureAwait(false);
        var parent = boxes.Snapshots.Find(box.Record.SnapshotId) ?? throw ApiException.SnapshotNotFound(box.Record.SnapshotId);
        var snapshot = await boxes.Snapshots.CaptureAsync(parent, box.Id, boxes.UpperLayersPath(box, running), snapshotName,
            body.FsCapacityBytes ?? box.Record.FsCapacityBytes, RunConfigs.Layer(RunConfigs.Layer(parent.RunConfig, box.Record.RunConfig), body.RunConfig), ct,
            boxes.UnshiftCapturedLayer).ConfigureAwait(false);
        return Results.Json(snapshot.ToInfo(), SandboxJson.Options, statusCode: 201);
    }
}
