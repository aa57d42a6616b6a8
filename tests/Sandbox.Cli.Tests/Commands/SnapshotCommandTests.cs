using Sandbox.Cli.Tests.Infrastructure;

namespace Sandbox.Cli.Tests.Commands;

[Collection(CliCollection.Name)]
public sealed class SnapshotCommandTests(CliFixture fixture)
{
    [Fact]
    public async Task Capture_List_Get_Wait_CreateFromIt_Delete()
    {
        string box = await fixture.CreateBoxAsync("snapsrc");
        Assert.Equal(0, (await fixture.RunAsync("exec", box, "--", "sh", "-c", "echo captured-content > /home/user/marker.txt")).ExitCode);

        string snapshotName = "snap-" + Guid.NewGuid().ToString("N")[..6];
        var captured = await fixture.RunAsync("snapshot", "capture", snapshotName, "--box", box, "--wait");
        Assert.True(captured.ExitCode == 0, captured.ToString());
        string id = captured.Json.GetProperty("id").GetString()!;
        Assert.Equal("ready", captured.Json.GetProperty("status").GetString());
        Assert.Equal(snapshotName, captured.Json.GetProperty("name").GetString());

        var list = await fixture.RunAsync("snapshot", "list");
        Assert.Contains(list.Json.EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        var pretty = await fixture.RunAsync("snapshot", "list", "--format", "pretty");
        Assert.Contains(pretty.Stdout.Split('\n'), l => l.Contains(snapshotName, StringComparison.Ordinal) && l.Contains("ready", StringComparison.Ordinal));
        Assert.Equal(snapshotName, (await fixture.RunAsync("snapshot", "get", id)).Json.GetProperty("name").GetString());
        Assert.Equal("ready", (await fixture.RunAsync("snapshot", "wait", id, "--timeout", "30")).Json.GetProperty("status").GetString());

        string copy = await fixture.CreateBoxAsync("fromsnap", "--snapshot-id", id);
        var content = await fixture.RunAsync("exec", copy, "--", "cat", "/home/user/marker.txt");
        Assert.Equal("captured-content\n", content.Stdout);

        var inUse = await fixture.RunAsync("snapshot", "delete", id);
        Assert.Equal(1, inUse.ExitCode);
        Assert.Single(inUse.Stderr.Trim().Split('\n'));
        Assert.Contains("in use", inUse.Stderr, StringComparison.Ordinal);

        Assert.Equal(0, (await fixture.RunAsync("delete", copy)).ExitCode);
        Assert.Equal(0, (await fixture.RunAsync("delete", box)).ExitCode);
        var deleted = await fixture.RunAsync("snapshot", "delete", id);
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(id, deleted.Json.GetProperty("deleted").GetString());
        var gone = await fixture.RunAsync("snapshot", "get", id);
        Assert.Equal(1, gone.ExitCode);
        Assert.Contains("not found", gone.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_FromARootFilesystemFolder_WithAndWithoutWait()
    {
        // The local server cannot pull from registries; it builds from a folder (dir:/path) or an image archive.
        string rootfs = Path.Combine(fixture.TempRoot, "rootfs-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        await File.WriteAllTextAsync(Path.Combine(rootfs, "etc", "os-release"), "NAME=tiny\n");
        string name = "built-" + Guid.NewGuid().ToString("N")[..6];
        var built = await fixture.RunAsync("snapshot", "build", name, "--docker-image", "dir:" + rootfs, "--capacity", "1gb", "--wait");
        Assert.True(built.ExitCode == 0, built.ToString());
        Assert.Equal("ready", built.Json.GetProperty("status").GetString());
        Assert.Equal(1L << 30, built.Json.GetProperty("fs_capacity_bytes").GetInt64());
        Assert.Equal("dir:" + rootfs, built.Json.GetProperty("docker_image").GetString());

        var duplicate = await fixture.RunAsync("snapshot", "build", name, "--docker-image", "dir:" + rootfs, "--capacity", "1gb");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("already in use", duplicate.Stderr, StringComparison.Ordinal);

        string second = name + "-b";
        var noWait = await fixture.RunAsync("snapshot", "build", second, "--docker-image", "dir:" + rootfs, "--capacity", "512mb");
        Assert.True(noWait.ExitCode == 0, noWait.ToString());
        string id = noWait.Json.GetProperty("id").GetString()!;
        Assert.Equal("ready", (await fixture.RunAsync("snapshot", "wait", id)).Json.GetProperty("status").GetString());

        Assert.Equal(0, (await fixture.RunAsync("snapshot", "delete", id)).ExitCode);
        Assert.Equal(0, (await fixture.RunAsync("snapshot", "delete", built.Json.GetProperty("id").GetString()!)).ExitCode);
    }

    [Fact]
    public async Task Build_FromAnUnreachableImageOrRegistry_FailsWithOneLine_WithoutThePassword()
    {
        var missingImage = await fixture.RunAsync("snapshot", "build", "x-" + Guid.NewGuid().ToString("N")[..6], "--docker-image", "127.0.0.1:1/python:3.12-slim", "--capacity", "4gb", "--wait");
        Assert.Equal(1, missingImage.ExitCode);
        Assert.Single(missingImage.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", missingImage.Stderr, StringComparison.Ordinal);   // a loopback port nothing listens on: the pull fails without leaving the machine

        var registry = await fixture.RunAsync("snapshot", "build", "y", "--docker-image", "127.0.0.1:1/p:1", "--capacity", "4gb",
            "--registry-url", "127.0.0.1:1", "--registry-username", "u", "--registry-password", "hunter2-secret", "--wait", "--timeout", "120");
        // The credentials become a registry (reused by URL next time); the pull then fails: one error line, no password.
        Assert.Equal(1, registry.ExitCode);
        var lines = registry.Stderr.Trim().Split('\n');
        Assert.Equal("Created registry 'cli-127-0-0-1' for 127.0.0.1:1.", lines[0]);
        var pullError = Assert.Single(lines, l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.StartsWith("error: Pull of ", pullError, StringComparison.Ordinal);
        Assert.Contains("could not be reached", pullError, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", registry.Stderr + registry.Stdout, StringComparison.Ordinal);
        Assert.Equal("127.0.0.1:1", (await fixture.Client.Registries.GetAsync("cli-127-0-0-1")).Url);

        var both = await fixture.RunAsync("snapshot", "build", "y", "--docker-image", "i", "--capacity", "4gb", "--registry-id", "r", "--registry-url", "u");
        Assert.Equal(2, both.ExitCode);
        Assert.Equal("error: use either --registry-id or --registry-url, not both", both.Stderr.Trim());

        var badSize = await fixture.RunAsync("snapshot", "build", "y", "--docker-image", "i", "--capacity", "lots");
        Assert.Equal(2, badSize.ExitCode);
        Assert.StartsWith("error: --capacity: 'lots' is not a size", badSize.Stderr.Trim(), StringComparison.Ordinal);
    }
}
