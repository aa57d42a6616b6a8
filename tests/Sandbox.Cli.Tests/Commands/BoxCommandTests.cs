using Sandbox.Cli.Tests.Infrastructure;

namespace Sandbox.Cli.Tests.Commands;

[Collection(CliCollection.Name)]
public sealed class BoxCommandTests(CliFixture fixture)
{
    [Fact]
    public async Task Help_ListsEveryCommandOfTheGuide()
    {
        var root = await fixture.RunAsync("--help");
        Assert.Equal(0, root.ExitCode);
        foreach (var command in new[] { "snapshot", "create", "list", "get", "update", "wait", "start", "stop", "delete", "exec", "console", "tunnel", "ssh-setup", "server", "--format", "--endpoint", "--api-key" })
        {
            Assert.Contains(command, root.Stdout, StringComparison.Ordinal);
        }

        var snapshot = await fixture.RunAsync("snapshot", "--help");
        foreach (var command in new[] { "build", "capture", "list", "get", "wait", "delete" })
        {
            Assert.Contains(command, snapshot.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Lifecycle_CreateListGetUpdateStopStartWaitDelete()
    {
        string name = "life-" + Guid.NewGuid().ToString("N")[..6];
        string proxyFile = Path.Combine(fixture.TempRoot, name + "-proxy.json");
        await File.WriteAllTextAsync(proxyFile, """
            {"rules": [{"name": "example", "match_hosts": ["api.example.com"], "headers": [{"name": "X-Test", "type": "plaintext", "value": "1"}], "enabled": true}],
             "access_control": {"allow_list": ["api.example.com"], "deny_list": []}}
            """);

        var created = await fixture.RunAsync("create", name, "--vcpus", "2", "--memory", "1gb", "--rootfs-capacity", "1gb", "--proxy-config", "@" + proxyFile, "--wait");
        Assert.True(created.ExitCode == 0, created.ToString());
        var box = created.Json;
        Assert.Equal(name, box.GetProperty("name").GetString());
        Assert.Equal("ready", box.GetProperty("status").GetString());
        Assert.Equal(2, box.GetProperty("vcpus").GetInt32());
        Assert.Equal(1L << 30, box.GetProperty("mem_bytes").GetInt64());
        Assert.Equal(1L << 30, box.GetProperty("fs_capacity_bytes").GetInt64());
        Assert.Equal("example", box.GetProperty("proxy_config").GetProperty("rules")[0].GetProperty("name").GetString());

        var list = await fixture.RunAsync("list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(list.Json.EnumerateArray(), b => b.GetProperty("name").GetString() == name);

        var pretty = await fixture.RunAsync("--format", "pretty", "list");
        Assert.Equal(0, pretty.ExitCode);
        Assert.Contains("NAME", pretty.Stdout, StringComparison.Ordinal);
        Assert.Contains("STATUS", pretty.Stdout, StringComparison.Ordinal);
        Assert.Contains(pretty.Stdout.Split('\n'), line => line.Contains(name, StringComparison.Ordinal) && line.Contains("ready", StringComparison.Ordinal) && line.Contains("1 GiB", StringComparison.Ordinal));

        var prettyGet = await fixture.RunAsync("get", name, "--format", "pretty");
        Assert.Contains(prettyGet.Stdout.Split('\n'), line => line.Contains("dataplane_url", StringComparison.Ordinal));

        var get = await fixture.RunAsync("get", name);
        Assert.Equal(name, get.Json.GetProperty("name").GetString());

        var updated = await fixture.RunAsync("update", name, "--vcpus", "1", "--memory", "512mb");
        Assert.True(updated.ExitCode == 0, updated.ToString());
        Assert.Equal(1, updated.Json.GetProperty("vcpus").GetInt32());
        Assert.Equal(512L << 20, updated.Json.GetProperty("mem_bytes").GetInt64());

        var stopped = await fixture.RunAsync("stop", name);
        Assert.True(stopped.ExitCode == 0, stopped.ToString());
        Assert.Equal("stopped", stopped.Json.GetProperty("status").GetString());

        var started = await fixture.RunAsync("start", name, "--wait");
        Assert.True(started.ExitCode == 0, started.ToString());
        Assert.Equal("ready", started.Json.GetProperty("status").GetString());

        var waited = await fixture.RunAsync("wait", name, "--timeout", "30");
        Assert.Equal("ready", waited.Json.GetProperty("status").GetString());

        var deleted = await fixture.RunAsync("delete", name);
        Assert.Equal(0, deleted.ExitCode);
        Assert.Equal(name, deleted.Json.GetProperty("deleted").GetString());

        var gone = await fixture.RunAsync("get", name);
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal($"error: Sandbox '{name}' not found", gone.Stderr.Trim());
    }

    [Fact]
    public async Task CreateWithoutWait_ReturnsAtOnce_AndWaitThenReportsReady()
    {
        string name = "nowait-" + Guid.NewGuid().ToString("N")[..6];
        var created = await fixture.RunAsync("create", name);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal(name, created.Json.GetProperty("name").GetString());
        var waited = await fixture.RunAsync("wait", name);
        Assert.True(waited.ExitCode == 0, waited.ToString());
        Assert.Equal("ready", waited.Json.GetProperty("status").GetString());

        var stop = await fixture.RunAsync("stop", name);
        Assert.Equal(0, stop.ExitCode);
        var start = await fixture.RunAsync("start", name);   // no --wait: returns what the server says now
        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.Contains(start.Json.GetProperty("status").GetString(), new[] { "starting", "provisioning", "ready" });
        Assert.Equal(0, (await fixture.RunAsync("delete", name)).ExitCode);
    }

    [Fact]
    public async Task UpdateProxyConfigFromFile_IsApplied()
    {
        string name = await fixture.CreateBoxAsync("proxy");
        string file = Path.Combine(fixture.TempRoot, name + ".json");
        await File.WriteAllTextAsync(file, """{"rules": [], "access_control": {"allow_list": ["example.org"], "deny_list": []}}""");
        var updated = await fixture.RunAsync("update", name, "--proxy-config", "@" + file);
        Assert.True(updated.ExitCode == 0, updated.ToString());
        Assert.Equal("example.org", updated.Json.GetProperty("proxy_config").GetProperty("access_control").GetProperty("allow_list")[0].GetString());
        await fixture.RunAsync("delete", name);
    }
}
