using System.Formats.Tar;
using Sandbox.Client.Tests.Infrastructure;

namespace Sandbox.Client.Tests.Control;

public sealed class DockerfileSnapshotTests : IAsyncLifetime
{
    private FakeSandboxServer _server = null!;
    private string _context = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeSandboxServer.StartAsync();
        _context = Directory.CreateTempSubdirectory("ctx").FullName;
        await File.WriteAllTextAsync(Path.Combine(_context, "Dockerfile"), "FROM python:3.12-slim\nCOPY app.py /app.py\n");
        await File.WriteAllTextAsync(Path.Combine(_context, "app.py"), "print('hi')\n");
        Directory.CreateDirectory(Path.Combine(_context, ".git"));
        await File.WriteAllTextAsync(Path.Combine(_context, ".git", "HEAD"), "ref: refs/heads/main\n");
        Directory.CreateDirectory(Path.Combine(_context, "src"));
        await File.WriteAllTextAsync(Path.Combine(_context, "src", "lib.py"), "x = 1\n");
    }

    public async ValueTask DisposeAsync()
    {
        Directory.Delete(_context, recursive: true);
        await _server.DisposeAsync();
    }

    private void Script(int buildExit)
    {
        _server.On("POST", "/boxes", (c, r) => FakeSandboxServer.Respond(c, 201, _server.Box(r.Json.GetProperty("name").GetString()!)));
        _server.OnJson("POST", "/dp/sb-1/upload", 200, new { path = "x", written = 1 });
        foreach (var exit in new[] { 0, buildExit })
        {
            _server.OnExecute(async c =>
            {
                var setup = await c.AcceptAndReadSetupAsync();
                await c.StartedAsync(setup.GetProperty("command_id").GetString()!);
                await c.StdoutAsync("step\n", 0);
                await c.ExitAsync(exit);
                await c.DrainAsync();
            });
        }

        _server.OnJson("GET", "/snapshots/snap-1", 200, new { id = "snap-1", name = "my-env", status = "ready", fs_capacity_bytes = 1 });
    }

    [Fact]
    public async Task CreateSnapshotFromDockerfileAsync_OrchestratesBuilderUploadBuildCaptureAndDelete()
    {
        // Scenario 33
        Script(buildExit: 0);
        var captured = new List<RecordedRequest>();
        var deleted = new List<string>();
        RegisterBuilderRoutes(captured, deleted);
        using var client = _server.CreateClient();
        var log = new List<string>();
        var snapshot = await client.CreateSnapshotFromDockerfileAsync("my-env", _context, new DockerfileSnapshotOptions
        {
            Vcpus = 2,
            MemBytes = 4294967296,
            BuildArgs = new Dictionary<string, string> { ["B"] = "2", ["A"] = "1" },
            Target = "runtime",
            OnOutput = chunk => log.Add(chunk.Data),
        });

        Assert.Equal("snap-1", snapshot.Id);
        var create = Assert.Single(_server.RequestsTo("/boxes")).Json;
        var builder = create.GetProperty("name").GetString()!;
        Assert.Matches("^snapshot-builder-[0-9a-f]{12}$", builder);
        Assert.True(create.GetProperty("wait_for_ready").GetBoolean());
        Assert.Equal(2, create.GetProperty("vcpus").GetInt32());
        Assert.Equal(4294967296, create.GetProperty("mem_bytes").GetInt64());

        var upload = Assert.Single(_server.RequestsTo("/dp/sb-1/upload"));
        var tarPath = Uri.UnescapeDataString(upload.QueryString["?path=".Length..]);
        Assert.Matches("^/var/lib/langsmith-build/[0-9a-f]{12}/context.tar$", tarPath);
        var names = TarNames(upload.Body);
        Assert.Contains("Dockerfile", names);
        Assert.Contains("src/lib.py", names);
        Assert.DoesNotContain(names, n => n.Contains(".git", StringComparison.Ordinal));

        var commands = _server.ExecConnections.Select(c => c.Received.First().GetProperty("command").GetString()!).ToList();
        Assert.Contains($"tar -xf '{tarPath}'", commands[0]);
        Assert.Contains("--frontend dockerfile.v0", commands[1]);
        Assert.Contains("docker info >/dev/null 2>&1", commands[1]);
        Assert.Contains("| docker load", commands[1]);
        Assert.Contains("--opt target='runtime'", commands[1]);
        Assert.True(commands[1].IndexOf("build-arg:A=1", StringComparison.Ordinal) < commands[1].IndexOf("build-arg:B=2", StringComparison.Ordinal));
        Assert.Equal(["step\n"], log);

        var capture = Assert.Single(captured).Json;
        Assert.Equal("my-env", capture.GetProperty("name").GetString());
        Assert.StartsWith("langsmith-snapshot-build:", capture.GetProperty("docker_image").GetString());
        Assert.False(capture.TryGetProperty("fs_capacity_bytes", out _));
        Assert.Equal([builder], deleted);
    }

    [Fact]
    public async Task CreateSnapshotFromDockerfileAsync_FailedBuild_ThrowsAndStillDeletesBuilder()
    {
        Script(buildExit: 1);
        var captured = new List<RecordedRequest>();
        var deleted = new List<string>();
        RegisterBuilderRoutes(captured, deleted);
        using var client = _server.CreateClient();
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => client.CreateSnapshotFromDockerfileAsync("my-env", _context));
        Assert.Equal("snapshot", error.ResourceType);
        Assert.Contains("Dockerfile snapshot build failed", error.Message);
        Assert.Empty(captured);
        Assert.Single(deleted);
    }

    private void RegisterBuilderRoutes(List<RecordedRequest> captured, List<string> deleted)
    {
        // The builder's name is random: match it when the create request arrives.
        _server.OnAny(async (c, r) =>
        {
            if (r.Method == "POST" && r.Path.StartsWith("/boxes/snapshot-builder-", StringComparison.Ordinal) && r.Path.EndsWith("/snapshot", StringComparison.Ordinal))
            {
                captured.Add(r);
                await FakeSandboxServer.Respond(c, 201, new { id = "snap-1", name = "my-env", status = "building", fs_capacity_bytes = 1 });
                return true;
            }

            if (r.Method == "DELETE" && r.Path.StartsWith("/boxes/snapshot-builder-", StringComparison.Ordinal))
            {
                deleted.Add(r.Path["/boxes/".Length..]);
                c.Response.StatusCode = 204;
                return true;
            }

            return false;
        });
    }

    private static List<string> TarNames(byte[] multipartBody)
    {
        var text = System.Text.Encoding.Latin1.GetString(multipartBody);
        var start = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        using var reader = new TarReader(new MemoryStream(multipartBody, start, multipartBody.Length - start));
        var names = new List<string>();
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }

        return names;
    }
}
