using System.Text.Json;
using Sandbox.Client.Tests.Infrastructure;

namespace Sandbox.Client.Tests.Control;

public sealed class SnapshotTests : IAsyncLifetime
{
    private FakeSandboxServer _server = null!;
    private SandboxClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeSandboxServer.StartAsync();
        _client = _server.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private static object Snapshot(string status, string? message = null) =>
        new { id = "snap-1", name = "my-env", status, fs_capacity_bytes = 4294967296, status_message = message };

    [Fact]
    public async Task CreateSnapshotAsync_SendsExactBodyThenPollsUntilReady()
    {
        // Scenario 28
        _server.OnJson("POST", "/snapshots", 201, Snapshot("building"));
        _server.OnJson("GET", "/snapshots/snap-1", 200, Snapshot("building"), times: 1);
        _server.OnJson("GET", "/snapshots/snap-1", 200, Snapshot("ready"));
        var snapshot = await _client.CreateSnapshotAsync("my-env", "python:3.12-slim", 4294967296, new CreateSnapshotOptions { RegistryId = "reg-1" });
        Assert.Equal("ready", snapshot.Status);
        Assert.Equal(
            """{"name":"my-env","docker_image":"python:3.12-slim","fs_capacity_bytes":4294967296,"registry_id":"reg-1"}""",
            _server.RequestsTo("/snapshots")[0].BodyText);
        Assert.Equal(2, _server.RequestsTo("/snapshots/snap-1").Count);
    }

    [Fact]
    public async Task CreateSnapshotAsync_AlreadyReady_PollsOnce()
    {
        _server.OnJson("POST", "/snapshots", 201, Snapshot("ready"));
        _server.OnJson("GET", "/snapshots/snap-1", 200, Snapshot("ready"));
        await _client.CreateSnapshotAsync("my-env", "img", 1, new CreateSnapshotOptions { RunConfig = new Protocol.RunConfig { User = "0" } });
        Assert.Single(_server.RequestsTo("/snapshots/snap-1"));
        Assert.Equal("0", _server.RequestsTo("/snapshots")[0].Json.GetProperty("run_config").GetProperty("user").GetString());
    }

    [Fact]
    public async Task CaptureSnapshotAsync_SendsNameImageAndCapacityInOrder()
    {
        // Scenario 29
        _server.OnJson("POST", "/boxes/sb-1/snapshot", 201, Snapshot("ready"));
        _server.OnJson("GET", "/snapshots/snap-1", 200, Snapshot("ready"));
        await _client.CaptureSnapshotAsync("sb-1", "captured", new CaptureSnapshotOptions { DockerImage = "local-image:latest", FsCapacityBytes = 4294967296 });
        await _client.CaptureSnapshotAsync("sb-1", "captured");
        var bodies = _server.RequestsTo("/boxes/sb-1/snapshot").Select(r => r.BodyText).ToList();
        Assert.Equal("""{"name":"captured","docker_image":"local-image:latest","fs_capacity_bytes":4294967296}""", bodies[0]);
        Assert.Equal("""{"name":"captured"}""", bodies[1]);
        _server.OnJson("POST", "/boxes/gone/snapshot", 404, new { detail = "x" });
        Assert.Equal("sandbox", (await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.CaptureSnapshotAsync("gone", "c"))).ResourceType);
    }

    [Fact]
    public async Task ListSnapshotsAsync_SendsQueryOnlyWhenGiven()
    {
        // Scenarios 30, 31
        _server.OnJson("GET", "/snapshots", 200, new { snapshots = new[] { Snapshot("ready") }, offset = 0 });
        Assert.Single(await _client.ListSnapshotsAsync());
        await _client.ListSnapshotsAsync(new ListSnapshotsOptions { NameContains = "env", Limit = 10, Offset = 5 });
        var queries = _server.RequestsTo("/snapshots").Select(r => r.QueryString).ToList();
        Assert.Equal(["", "?name_contains=env&limit=10&offset=5"], queries);
    }

    [Fact]
    public async Task GetAndDeleteSnapshot_404_MapsToSnapshotNotFound()
    {
        // Scenario 31
        _server.OnJson("GET", "/snapshots/nope", 404, new { detail = "x" });
        _server.OnJson("DELETE", "/snapshots/nope", 404, new { detail = "x" });
        _server.OnJson("DELETE", "/snapshots/snap-1", 204, null);
        var get = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.GetSnapshotAsync("nope"));
        Assert.Equal("snapshot", get.ResourceType);
        Assert.Equal("Snapshot 'nope' not found", get.Message);
        Assert.Equal("snapshot", (await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DeleteSnapshotAsync("nope"))).ResourceType);
        await _client.DeleteSnapshotAsync("snap-1");
    }

    [Fact]
    public async Task WaitForSnapshotAsync_Failed_ThrowsCreationErrorWithStatusMessage()
    {
        // Scenario 32
        _server.OnJson("GET", "/snapshots/snap-1", 200, Snapshot("failed", "Docker pull failed"));
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => _client.WaitForSnapshotAsync("snap-1"));
        Assert.Equal("Docker pull failed", error.Message);
        Assert.Equal("snapshot", error.ResourceType);
    }

    [Fact]
    public async Task WaitForSnapshotAsync_Timeout_CarriesLastStatus()
    {
        _server.OnJson("GET", "/snapshots/snap-1", 200, Snapshot("building"));
        var error = await Assert.ThrowsAsync<ResourceTimeoutException>(() => _client.WaitForSnapshotAsync("snap-1", TimeSpan.Zero));
        Assert.Equal("building", error.LastStatus);
        Assert.Equal("snapshot", error.ResourceType);
    }

    [Fact]
    public async Task GetSnapshotAsync_MinimalObject_ParsesWithNullOptionals()
    {
        // Scenario 92
        _server.On("GET", "/snapshots/s", (c, _) => FakeSandboxServer.Respond(c, 200, JsonDocument.Parse(
            """{"id":"s","name":"n","status":"ready","fs_capacity_bytes":1,"source_sandbox_id":"sb"}""").RootElement));
        var snapshot = await _client.GetSnapshotAsync("s");
        Assert.Null(snapshot.DockerImage);
        Assert.Null(snapshot.FsUsedBytes);
        Assert.Equal("sb", snapshot.SourceSandboxId);
    }

    [Fact]
    public async Task Registries_UseApiRootAndMapErrors()
    {
        // Scenario 7 (registries at {root}/api/v2/sandboxes/registries)
        _server.OnJson("POST", "/api/v2/sandboxes/registries", 201, new { id = "reg-1", name = "r" });
        _server.OnJson("GET", "/api/v2/sandboxes/registries", 200, new { registries = new[] { new { id = "reg-1", name = "r" } }, offset = 0 });
        _server.OnJson("GET", "/api/v2/sandboxes/registries/missing", 404, new { detail = "no" });
        _server.OnJson("DELETE", "/api/v2/sandboxes/registries/r", 204, null);
        _server.OnJson("PATCH", "/api/v2/sandboxes/registries/r", 200, new { id = "reg-1", name = "r2" });
        var created = await _client.Registries.CreateAsync(new Protocol.RegistryRequest { Name = "r", Url = "https://ghcr.io", Username = "u", Password = "p" });
        Assert.Equal("reg-1", created.Id);
        Assert.Single(await _client.Registries.ListAsync(nameContains: "r"));
        Assert.Equal("r2", (await _client.Registries.UpdateAsync("r", new Protocol.RegistryRequest { Name = "r2" })).Name);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.Registries.GetAsync("missing"));
        await _client.Registries.DeleteAsync("r");
        Assert.Equal("?name_contains=r", _server.RequestsTo("/api/v2/sandboxes/registries").Single(r => r.Method == "GET").QueryString);
        Assert.Equal("*/*", _server.RequestsTo("/api/v2/sandboxes/registries/r").Single(r => r.Method == "DELETE").Header("Accept"));
        Assert.DoesNotContain("\"p\"", new Protocol.RegistryRequest { Password = "p" }.ToString());
    }
}
