using System.Text.Json;
using Sandbox.Protocol;
using Sandbox.Client.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Sandbox.Client.Tests.Control;

public sealed class SandboxLifecycleTests : IAsyncLifetime
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

    private void BoxEndpoints()
    {
        _server.OnJson("POST", "/boxes", 201, _server.Box());
        _server.OnJson("GET", "/boxes/sb-1", 200, _server.Box());
    }

    [Fact]
    public async Task CreateSandboxAsync_WithSnapshotId_SendsOnlyGivenKeysAndAlwaysWaitForReady()
    {
        // Scenarios 8, 9, 10
        BoxEndpoints();
        await using var box = await _client.CreateSandboxAsync(new CreateSandboxOptions { SnapshotId = "snap-1" });
        var request = Assert.Single(_server.RequestsTo("/boxes"));
        Assert.Equal(["wait_for_ready", "snapshot_id", "timeout"], request.JsonKeys);
        Assert.True(request.Json.GetProperty("wait_for_ready").GetBoolean());
        Assert.Equal(30, request.Json.GetProperty("timeout").GetInt32());
        Assert.Equal("test-key", request.Header("X-Api-Key"));
        Assert.Equal("application/json", request.Header("Content-Type")!.Split(';')[0]);
        Assert.Equal("ready", box.Info.Status);
        Assert.Equal(_server.Dataplane, box.DataplaneUrl);
    }

    [Fact]
    public async Task CreateSandboxAsync_ByNameWithoutWait_SendsSnapshotNameAndNoTimeout()
    {
        // Scenarios 8, 9
        _server.OnJson("POST", "/boxes", 201, _server.Box(status: "provisioning"));
        var box = await _client.CreateSandboxAsync(new CreateSandboxOptions { SnapshotName = "python-env", WaitForReady = false });
        var body = Assert.Single(_server.RequestsTo("/boxes")).Json;
        Assert.False(body.GetProperty("wait_for_ready").GetBoolean());
        Assert.Equal("python-env", body.GetProperty("snapshot_name").GetString());
        Assert.False(body.TryGetProperty("timeout", out _));
        Assert.False(body.TryGetProperty("snapshot_id", out _));
        Assert.False(body.TryGetProperty("template_name", out _));
        Assert.Equal("provisioning", box.Info.Status);
    }

    [Fact]
    public async Task CreateSandboxAsync_WithEveryOption_SendsEachKeyAndZeroValues()
    {
        // Scenarios 10, 13 and delta 2, 4
        BoxEndpoints();
        var proxy = SandboxConfig.ProxyConfig([SandboxConfig.AwsAuth(SandboxConfig.WorkspaceSecret("AK"), SandboxConfig.WorkspaceSecret("SK"))]);
        var mounts = SandboxConfig.MountConfig([SandboxConfig.GitMount("repo", "/mnt/repo", "https://github.com/org/repo.git")]);
        await using var box = await _client.CreateSandboxAsync(new CreateSandboxOptions
        {
            Name = "my-vm",
            Timeout = TimeSpan.FromSeconds(45),
            IdleTtl = TimeSpan.Zero,
            DeleteAfterStop = TimeSpan.FromHours(1),
            Vcpus = 2,
            MemBytes = 8589934592,
            FsCapacityBytes = 4294967296,
            Labels = new Dictionary<string, string> { ["team"] = "ml" },
            ProxyConfig = proxy,
            MountConfig = mounts,
            RunConfig = new RunConfig { User = "1000", WorkDir = "/w" },
            AccessDelegation = new AccessDelegation { Mode = "INHERIT", Permissions = [] },
            Persistent = true,
            PreserveMemoryOnStop = false,
            RestoreMemory = true,
        });
        var body = Assert.Single(_server.RequestsTo("/boxes")).Json;
        Assert.Equal(0, body.GetProperty("idle_ttl_seconds").GetInt32());
        Assert.Equal(3600, body.GetProperty("delete_after_stop_seconds").GetInt32());
        Assert.Equal(45, body.GetProperty("timeout").GetInt32());
        Assert.Equal(2, body.GetProperty("vcpus").GetInt32());
        Assert.Equal(8589934592, body.GetProperty("mem_bytes").GetInt64());
        Assert.Equal(4294967296, body.GetProperty("fs_capacity_bytes").GetInt64());
        Assert.Equal("ml", body.GetProperty("labels").GetProperty("team").GetString());
        Assert.Equal("aws", body.GetProperty("proxy_config").GetProperty("rules")[0].GetProperty("type").GetString());
        Assert.Equal("git", body.GetProperty("mount_config").GetProperty("mounts")[0].GetProperty("type").GetString());
        Assert.False(body.TryGetProperty("mounts", out _));
        Assert.Equal("""{"user":"1000","work_dir":"/w"}""", body.GetProperty("run_config").GetRawText());
        Assert.Equal("""{"mode":"INHERIT"}""", body.GetProperty("access_delegation").GetRawText());
        Assert.True(body.GetProperty("persistent").GetBoolean());
        Assert.False(body.GetProperty("preserve_memory_on_stop").GetBoolean());
        Assert.True(body.GetProperty("restore_memory").GetBoolean());
    }

    [Fact]
    public async Task CreateSandboxAsync_WithoutNewOptions_SendsNoneOfTheirKeys()
    {
        // Delta scenario 2
        BoxEndpoints();
        await using var box = await _client.CreateSandboxAsync();
        var keys = Assert.Single(_server.RequestsTo("/boxes")).JsonKeys;
        Assert.Equal(["wait_for_ready", "timeout"], keys);
    }

    public static TheoryData<CreateSandboxOptions, string> InvalidCreates => new()
    {
        { new CreateSandboxOptions { SnapshotId = "a", SnapshotName = "b" }, "snapshot_id" },
        { new CreateSandboxOptions { IdleTtl = TimeSpan.FromSeconds(61) }, "idle_ttl_seconds" },
        { new CreateSandboxOptions { IdleTtl = TimeSpan.FromSeconds(90) }, "idle_ttl_seconds" },
        { new CreateSandboxOptions { DeleteAfterStop = TimeSpan.FromSeconds(-60) }, "delete_after_stop_seconds" },
        { new CreateSandboxOptions { AccessDelegation = new AccessDelegation { Mode = "EXPLICIT" } }, "access_delegation" },
        { new CreateSandboxOptions { Timeout = TimeSpan.FromSeconds(-1) }, "timeout" },
        { new CreateSandboxOptions { Timeout = TimeSpan.FromSeconds(1.5) }, "timeout" },
        { new CreateSandboxOptions { AccessDelegation = new AccessDelegation { Mode = "ADMIN" } }, "access_delegation" },
        {
            new CreateSandboxOptions
            {
                ProxyConfig = SandboxConfig.ProxyConfig([SandboxConfig.AwsAuth(SandboxConfig.OpaqueSecret("a"), SandboxConfig.OpaqueSecret("b"))]),
                MountConfig = new MountConfig
                {
                    Auth = SandboxConfig.AwsMountAuth(SandboxConfig.OpaqueSecret("a"), SandboxConfig.OpaqueSecret("b")),
                    Mounts = [SandboxConfig.S3Mount("s3", "/mnt/mounts/s3", "b1")],
                },
            },
            "mount_config"
        },
    };

    [Theory]
    [MemberData(nameof(InvalidCreates))]
    public async Task CreateSandboxAsync_WithInvalidOptions_FailsBeforeAnyRequest(CreateSandboxOptions options, string field)
    {
        // Scenarios 11, 12, 13 and delta 4
        var error = await Assert.ThrowsAsync<SandboxValidationException>(() => _client.CreateSandboxAsync(options));
        Assert.Equal(field, error.Field);
        Assert.Empty(_server.Requests);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(60)]
    [InlineData(3600)]
    public async Task CreateSandboxAsync_RetentionMultipleOfSixty_IsAccepted(int seconds)
    {
        // Scenario 11
        BoxEndpoints();
        await using var box = await _client.CreateSandboxAsync(new CreateSandboxOptions { IdleTtl = TimeSpan.FromSeconds(seconds) });
        Assert.Equal(seconds, Assert.Single(_server.RequestsTo("/boxes")).Json.GetProperty("idle_ttl_seconds").GetInt32());
    }

    [Fact]
    public async Task CreateSandboxAsync_Answered408_ThrowsResourceTimeout()
    {
        // Scenario 14
        _server.OnJson("POST", "/boxes", 408, new { detail = "Timeout waiting for sandbox to be ready" });
        var error = await Assert.ThrowsAsync<ResourceTimeoutException>(() => _client.CreateSandboxAsync());
        Assert.Equal("sandbox", error.ResourceType);
        Assert.Contains("Timeout waiting for sandbox to be ready", error.Message);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task CreateSandboxAsync_Answered422ValidationList_ThrowsValidationWithField()
    {
        // Scenario 15
        _server.OnJson("POST", "/boxes", 422, new { detail = new[] { new { loc = new[] { "body", "vcpus" }, msg = "ensure this value is greater than 0", type = "value_error" } } });
        var error = await Assert.ThrowsAsync<SandboxValidationException>(() => _client.CreateSandboxAsync());
        Assert.Equal("vcpus", error.Field);
        Assert.Equal("ensure this value is greater than 0", error.Message);
        Assert.Single(error.Details);
    }

    [Fact]
    public async Task CreateSandboxAsync_Answered422Structured_ThrowsCreationErrorWithType()
    {
        // Scenario 15
        _server.OnJson("POST", "/boxes", 422, FakeSandboxServer.Detail("ImagePullFailed", "could not pull"));
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => _client.CreateSandboxAsync());
        Assert.Equal("ImagePullFailed", error.ErrorType);
        Assert.Equal("sandbox", error.ResourceType);
        Assert.Equal("could not pull [ImagePullFailed]", error.Message);
    }

    [Fact]
    public async Task CreateSandboxAsync_Answered503_ThrowsUnschedulableAfterRetries()
    {
        _server.OnJson("POST", "/boxes", 503, new { detail = "no nodes" });
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => _client.CreateSandboxAsync());
        Assert.Equal("Unschedulable", error.ErrorType);
        Assert.Equal(4, _server.Requests.Count);
    }

    [Fact]
    public async Task CreateSandboxAsync_Answered429_ThrowsQuotaWithType()
    {
        _server.OnJson("POST", "/boxes", 429, new { detail = "Sandbox count limit reached" });
        var error = await Assert.ThrowsAsync<QuotaExceededException>(() => _client.CreateSandboxAsync());
        Assert.Equal("sandbox_count", error.QuotaType);
    }

    [Fact]
    public async Task CaptureSnapshotAsync_Answered422ValidationList_ThrowsValidation()
    {
        // Scenario 16
        _server.OnJson("POST", "/boxes/sb-1/snapshot", 422, new { detail = new[] { new { loc = new[] { "body", "name" }, msg = "field required", type = "value_error.missing" } } });
        var error = await Assert.ThrowsAsync<SandboxValidationException>(() => _client.CaptureSnapshotAsync("sb-1", "snap"));
        Assert.Equal("name", error.Field);
    }

    [Fact]
    public async Task CreateSandboxAsync_ConnectionRefused_ThrowsConnectionErrorAfterRetries()
    {
        // Scenario 17
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var attempts = 0;
        using var client = _server.CreateClient(o =>
        {
            o.Endpoint = new Uri($"http://127.0.0.1:{port}");
            o.DelayOverride = (_, _) => { attempts++; return Task.CompletedTask; };
        });
        var error = await Assert.ThrowsAsync<SandboxConnectionException>(() => client.CreateSandboxAsync());
        Assert.Contains("after 4 attempts", error.Message);
        Assert.IsType<HttpRequestException>(error.InnerException);
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task ListSandboxesAsync_SurfacesStatusAndDefaultsMissingToReady()
    {
        // Scenarios 18, 91
        _server.On("GET", "/boxes", (c, _) => FakeSandboxServer.Respond(c, 200, JsonDocument.Parse(
            """{"sandboxes":[{"name":"a","status":"stopped","idle_ttl_seconds":0},{"name":"b","ttl_seconds":5,"expires_at":"x"}],"offset":0}""").RootElement));
        var boxes = await _client.ListSandboxesAsync();
        Assert.Equal(["stopped", "ready"], boxes.Select(b => b.Status));
        Assert.Equal(0, boxes[0].IdleTtlSeconds);
        Assert.Null(boxes[1].IdleTtlSeconds);
        Assert.Null(boxes[1].DeleteAfterStopSeconds);
        Assert.Equal("", Assert.Single(_server.Requests).QueryString);
    }

    [Fact]
    public async Task ListSandboxesAsync_WhenServerSendsOnlyItems_ReturnsEmpty()
    {
        // Delta scenario 11
        _server.On("GET", "/boxes", (c, _) => FakeSandboxServer.Respond(c, 200, JsonDocument.Parse("""{"items":[{"name":"a"}]}""").RootElement));
        Assert.Empty(await _client.ListSandboxesAsync());
    }

    [Fact]
    public async Task ListSandboxesAsync_Answered404_ThrowsApiErrorNamingTheUrl()
    {
        _server.OnJson("GET", "/boxes", 404, new { detail = "Not Found" });
        var error = await Assert.ThrowsAsync<SandboxApiException>(() => _client.ListSandboxesAsync());
        Assert.Contains("API endpoint not found", error.Message);
        Assert.Contains(_server.Url + "/boxes", error.Message);
    }

    [Fact]
    public async Task DisposeAsync_OfCreatedSandbox_DeletesOnceAndGetSandboxNever()
    {
        // Scenario 19
        BoxEndpoints();
        _server.OnJson("DELETE", "/boxes/sb-1", 204, null);
        var created = await _client.CreateSandboxAsync();
        await created.DisposeAsync();
        await created.DisposeAsync();
        var fetched = await _client.GetSandboxAsync("sb-1");
        await fetched.DisposeAsync();
        Assert.Single(_server.Requests, r => r.Method == "DELETE");
    }

    [Fact]
    public async Task UpdateSandboxAsync_Rename_SendsOnlyName()
    {
        // Scenario 20
        _server.OnJson("PATCH", "/boxes/sb-1", 200, _server.Box("new"));
        var updated = await _client.UpdateSandboxAsync("sb-1", new UpdateSandboxOptions { Name = "new" });
        Assert.Equal("new", updated.Name);
        Assert.Equal("""{"name":"new"}""", Assert.Single(_server.Requests).BodyText);
    }

    [Fact]
    public async Task UpdateSandboxAsync_RetentionOnly_SendsNoNameAndEmptyPatchIsEmptyObject()
    {
        // Scenario 20 (Py: PATCH {} when nothing is given) and delta 4.2 fields
        _server.OnJson("PATCH", "/boxes/sb-1", 200, _server.Box());
        await _client.UpdateSandboxAsync("sb-1", new UpdateSandboxOptions { IdleTtl = TimeSpan.FromMinutes(10), RunConfig = new RunConfig { EnvVars = new Dictionary<string, string> { ["B"] = "2" } } });
        await _client.UpdateSandboxAsync("sb-1", new UpdateSandboxOptions());
        var requests = _server.Requests.ToList();
        Assert.Equal("""{"idle_ttl_seconds":600,"run_config":{"env_vars":{"B":"2"}}}""", requests[0].BodyText);
        Assert.Equal("{}", requests[1].BodyText);
    }

    [Fact]
    public async Task UpdateSandboxAsync_NotFoundAndConflict_MapToTypedErrors()
    {
        // Scenario 21
        _server.OnJson("PATCH", "/boxes/missing", 404, new { detail = "nope" });
        _server.OnJson("PATCH", "/boxes/sb-1", 409, FakeSandboxServer.Detail("Conflict", "Name already in use"));
        var missing = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.UpdateSandboxAsync("missing", new UpdateSandboxOptions { Name = "x" }));
        Assert.Equal("sandbox", missing.ResourceType);
        var conflict = await Assert.ThrowsAsync<ResourceNameConflictException>(() => _client.UpdateSandboxAsync("sb-1", new UpdateSandboxOptions { Name = "taken" }));
        Assert.Equal("sandbox", conflict.ResourceType);
        Assert.Contains("taken", conflict.Message);
    }

    [Fact]
    public async Task UpdateSandboxAsync_ProxyConfigRejectedWithInvalidRequest_ThrowsNotReady()
    {
        // Delta scenario 7
        _server.OnJson("PATCH", "/boxes/sb-1", 400, FakeSandboxServer.Detail("InvalidRequest", "sandbox not running"));
        await Assert.ThrowsAsync<SandboxNotReadyException>(() => _client.UpdateSandboxAsync("sb-1", new UpdateSandboxOptions { ProxyConfig = SandboxConfig.ProxyConfig() }));
        var generic = await Assert.ThrowsAsync<SandboxException>(() => _client.UpdateSandboxAsync("sb-1", new UpdateSandboxOptions { Name = "n" }));
        Assert.IsNotType<SandboxNotReadyException>(generic);
        Assert.Equal(400, generic.StatusCode);
    }

    [Fact]
    public async Task GetSandboxStatusAsync_ReturnsStatusAndDefaultsMissingToProvisioning()
    {
        // Scenarios 22, 92
        _server.OnJson("GET", "/boxes/sb-1/status", 200, new { status = "failed", status_message = "boom" }, times: 1);
        _server.On("GET", "/boxes/sb-1/status", (c, _) => FakeSandboxServer.Respond(c, 200, JsonDocument.Parse("{}").RootElement));
        _server.OnJson("GET", "/boxes/gone/status", 404, new { detail = "x" });
        Assert.Equal(new SandboxStatusInfo { Status = "failed", StatusMessage = "boom" }, await _client.GetSandboxStatusAsync("sb-1"));
        Assert.Equal("provisioning", (await _client.GetSandboxStatusAsync("sb-1")).Status);
        var error = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.GetSandboxStatusAsync("gone"));
        Assert.Equal("Sandbox 'gone' not found", error.Message);
    }

    [Fact]
    public async Task WaitForSandboxAsync_PollsUntilReadyThenGetsOnce()
    {
        // Scenario 23
        _server.OnJson("GET", "/boxes/sb-1/status", 200, new { status = "provisioning" }, times: 2);
        _server.OnJson("GET", "/boxes/sb-1/status", 200, new { status = "ready" });
        _server.OnJson("GET", "/boxes/sb-1", 200, _server.Box());
        var sleeps = new List<TimeSpan>();
        using var client = _server.CreateClient(o => o.DelayOverride = (d, _) => { sleeps.Add(d); return Task.CompletedTask; });
        var info = await client.WaitForSandboxAsync("sb-1");
        Assert.Equal("ready", info.Status);
        Assert.Equal(3, _server.RequestsTo("/boxes/sb-1/status").Count);
        Assert.Single(_server.RequestsTo("/boxes/sb-1"));
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)], sleeps);
    }

    [Fact]
    public async Task WaitForSandboxAsync_Failed_ThrowsCreationErrorWithStatusMessage()
    {
        // Scenario 24
        _server.OnJson("GET", "/boxes/sb-1/status", 200, new { status = "failed", status_message = "No capacity available" });
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => _client.WaitForSandboxAsync("sb-1"));
        Assert.Equal("No capacity available", error.Message);
        Assert.Equal("sandbox", error.ResourceType);
    }

    [Fact]
    public async Task WaitForSandboxAsync_ZeroTimeout_PollsOnceThenTimesOutWithLastStatus()
    {
        // Scenarios 25, 93
        _server.OnJson("GET", "/boxes/sb-1/status", 200, new { status = "provisioning" });
        var error = await Assert.ThrowsAsync<ResourceTimeoutException>(() => _client.WaitForSandboxAsync("sb-1", TimeSpan.Zero));
        Assert.Equal("provisioning", error.LastStatus);
        Assert.EndsWith("(last_status: provisioning)", error.Message);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task WaitForSandboxAsync_WithFakeClock_TimesOutAfterDeadline()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 24, 12, 0, 0, TimeSpan.Zero));
        _server.OnJson("GET", "/boxes/sb-1/status", 200, new { status = "stopped" });
        using var client = _server.CreateClient(o =>
        {
            o.TimeProvider = time;
            o.DelayOverride = (d, _) => { time.Advance(d); return Task.CompletedTask; };
        });
        var error = await Assert.ThrowsAsync<ResourceTimeoutException>(() => client.WaitForSandboxAsync("sb-1", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2)));
        Assert.Equal("stopped", error.LastStatus);
        Assert.Equal(4, _server.Requests.Count); // t=0, 2, 4, 5
    }

    [Fact]
    public async Task StartAsync_PostsEmptyBodyWaitsAndTakesNewDataplane()
    {
        // Scenario 26
        _server.OnJson("POST", "/boxes/sb-1/start", 202, new { });
        _server.OnJson("GET", "/boxes/sb-1/status", 200, new { status = "ready" });
        _server.OnJson("GET", "/boxes/sb-1", 200, _server.Box() with { DataplaneUrl = "http://new/dp" });
        var box = GetStopped();
        var info = await box.StartAsync();
        Assert.Equal("http://new/dp", box.DataplaneUrl);
        Assert.Equal("ready", info.Status);
        Assert.Equal("{}", _server.RequestsTo("/boxes/sb-1/start")[0].BodyText);
        _server.OnJson("POST", "/boxes/gone/start", 404, new { detail = "no" });
        var error = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.StartSandboxAsync("gone"));
        Assert.Equal("sandbox", error.ResourceType);
    }

    [Fact]
    public async Task StopAsync_SetsStoppedAndKeepsDataplane()
    {
        // Scenario 27
        _server.OnJson("POST", "/boxes/sb-1/stop", 204, null);
        _server.OnJson("POST", "/boxes/gone/stop", 404, new { detail = "no" });
        var box = _server.Instance(_client);
        await box.StopAsync();
        Assert.Equal("stopped", box.Info.Status);
        Assert.Equal(_server.Dataplane, box.DataplaneUrl);
        Assert.Equal("{}", Assert.Single(_server.Requests).BodyText);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.StopSandboxAsync("gone"));
    }

    [Fact]
    public async Task GetSandboxAsync_EchoesRunConfigLabelsAndDelegation()
    {
        // Delta scenario 3
        _server.On("GET", "/boxes/sb-1", (c, _) => FakeSandboxServer.Respond(c, 200, JsonDocument.Parse(
            """{"name":"sb-1","status":"ready","run_config":{"user":"app"},"labels":{"a":"b"},"preserve_memory_on_stop":true,"access_delegation":{"mode":"EXPLICIT","permissions":["runs:create"]}}""").RootElement));
        var info = (await _client.GetSandboxAsync("sb-1")).Info;
        Assert.Equal("app", info.RunConfig!.User);
        Assert.Equal("b", info.Labels!["a"]);
        Assert.True(info.PreserveMemoryOnStop);
        Assert.Equal(["runs:create"], info.AccessDelegation!.Permissions!);
    }

    [Fact]
    public async Task Errors_WithErrorId_AppendItToMessage()
    {
        // Delta scenario 10 and spec §3.3 table
        _server.OnJson("GET", "/boxes/a", 401, FakeSandboxServer.Detail("Unauthorized", "bad key", "e-42"));
        _server.OnJson("GET", "/boxes/b", 500, FakeSandboxServer.Detail("Internal", "oops", "e-43"));
        _server.OnJson("GET", "/boxes/c", 400, new { detail = "plain text" });
        _server.OnJson("GET", "/boxes/d", 502, FakeSandboxServer.Detail("ConnectionError", "upstream down"));
        _server.On("GET", "/boxes/e", (ctx, _) => FakeSandboxServer.Respond(ctx, 418, "not json"));
        var auth = await Assert.ThrowsAsync<SandboxAuthenticationException>(() => _client.GetSandboxAsync("a"));
        Assert.Equal("bad key (error_id=e-42)", auth.Message);
        Assert.Equal("e-42", auth.ErrorId);
        Assert.Equal(401, auth.StatusCode);
        var api = await Assert.ThrowsAsync<SandboxApiException>(() => _client.GetSandboxAsync("b"));
        Assert.EndsWith("(error_id=e-43)", api.Message);
        Assert.Single(_server.RequestsTo("/boxes/b")); // 500 is never retried
        var plain = await Assert.ThrowsAsync<SandboxException>(() => _client.GetSandboxAsync("c"));
        Assert.Equal("plain text", plain.Message);
        await Assert.ThrowsAsync<SandboxConnectionException>(() => _client.GetSandboxAsync("d"));
        var teapot = await Assert.ThrowsAsync<SandboxException>(() => _client.GetSandboxAsync("e"));
        Assert.StartsWith("HTTP 418", teapot.Message);
    }

    [Fact]
    public async Task GetSandboxAsync_MalformedJson_ThrowsTypedError()
    {
        _server.On("GET", "/boxes/sb-1", (c, _) => FakeSandboxServer.Respond(c, 200, "{not json"));
        var error = await Assert.ThrowsAsync<SandboxException>(() => _client.GetSandboxAsync("sb-1"));
        Assert.Contains("Malformed JSON", error.Message);
    }

    [Fact]
    public async Task Names_ArePercentEncodedAsOneSegment()
    {
        _server.OnJson("GET", "/boxes/a%2Fb", 200, _server.Box("a/b"));
        Assert.Equal("a/b", (await _client.GetSandboxAsync("a/b")).Name);
        await Assert.ThrowsAsync<SandboxValidationException>(() => _client.GetSandboxAsync(""));
    }

    private SandboxInstance GetStopped() => _client.GetSandbox(_server.Box(status: "stopped"));
}
