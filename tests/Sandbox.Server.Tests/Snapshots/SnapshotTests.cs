using System.Formats.Tar;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Snapshots;

public sealed class SnapshotTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("snapshot-test-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<SandboxInfo> BoxFromAsync(string snapshotName) =>
        await fixture.CreateBoxAsync(new { wait_for_ready = true, snapshot_name = snapshotName });

    private async Task<ExecuteResponse> ShAsync(string boxId, string command)
    {
        using var response = await fixture.Http.PostAsJsonAsync($"/dp/{boxId}/execute", new { command, shell = "/bin/sh" });
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonSerializer.Deserialize<ExecuteResponse>(text, SandboxJson.Options)!;
    }

    [Fact]
    public async Task DefaultSnapshot_IsListed_AndUnknownIdsAre404()
    {
        var list = await fixture.Http.GetFromJsonAsync<SnapshotList>("/v2/sandboxes/snapshots", SandboxJson.Options);
        var snapshot = Assert.Single(list!.Snapshots, s => s.Name == "default");
        Assert.Equal("ready", snapshot.Status);
        Assert.Equal(snapshot.Id, (await fixture.Client.GetSnapshotAsync(snapshot.Id)).Id);
        using var missing = await fixture.Http.GetAsync("/v2/sandboxes/snapshots/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("Snapshot 'nope' not found", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var typed = await Assert.ThrowsAsync<ResourceNotFoundException>(() => fixture.Client.GetSnapshotAsync("nope"));
        Assert.Equal("snapshot", typed.ResourceType);
    }

    [Fact]
    public async Task InvalidImageReference_IsRefusedWithTheAcceptedForms()
    {
        var error = await Assert.ThrowsAsync<SandboxValidationException>(() => fixture.Client.CreateSnapshotAsync(Unique("bad"), "Not A/Valid:Ref!", 1L << 30));
        Assert.Equal("docker_image", error.Field);
        Assert.Contains("neither a local path", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FolderSnapshot_BootsBoxesWithThatRootfs()
    {
        string rootfs = Path.Combine(_work, "rootfs");
        MiniRootfs.Create(rootfs);
        string name = Unique("folder");
        var snapshot = await fixture.Client.CreateSnapshotAsync(name, "dir:" + rootfs, 0);
        Assert.Equal("ready", snapshot.Status);
        var box = await BoxFromAsync(name);
        var result = await ShAsync(box.Id!, "cat /etc/marker; ls /usr/bin | head -3; [ -e /usr/bin/python3 ] && echo has-python || echo no-python");
        Assert.Contains("mini-rootfs", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("no-python", result.Stdout, StringComparison.Ordinal);
        await fixture.DeleteBoxAsync(box.Name);
    }

    [Fact]
    public async Task DockerSaveArchive_AppliesLayersWhiteoutsAndImageConfig_WithoutEscapingTheRootfs()
    {
        string rootfs = Path.Combine(_work, "base");
        MiniRootfs.Create(rootfs);
        string escape = "/tmp/escaped-" + Guid.NewGuid().ToString("N");
        string archive = Path.Combine(_work, "image.tar");
        await using (var stream = File.Create(archive))
        await using (var writer = new TarWriter(stream))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "manifest.json")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes("[{\"Config\":\"config.json\",\"RepoTags\":[\"mini:latest\"],\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]")),
            });
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "config.json")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes("{\"config\":{\"Env\":[\"FOO=from-image\",\"PATH=/usr/bin\"],\"WorkingDir\":\"/data\"}}")),
            });
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "l1/layer.tar") { DataStream = Layer1(rootfs) });
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "l2/layer.tar") { DataStream = Layer2(escape) });
        }

        string name = Unique("archive");
        var snapshot = await fixture.Client.CreateSnapshotAsync(name, archive, 0);
        Assert.Equal("ready", snapshot.Status);
        Assert.Equal("/data", snapshot.RunConfig!.WorkDir);
        Assert.False(File.Exists(escape), "a layer symlink redirected a write outside the rootfs");
        var box = await BoxFromAsync(name);
        var result = await ShAsync(box.Id!, "pwd; echo $FOO; ls /data; ls /data/dir; cat /data/new.txt");
        Assert.Equal("/data\nfrom-image\ndir\nevil\nnew.txt\nfresh\nnew\n", result.Stdout);
        await fixture.DeleteBoxAsync(box.Name);
    }

    private static MemoryStream Layer1(string rootfs)
    {
        var layer = new MemoryStream();
        using (var writer = new TarWriter(layer, leaveOpen: true))
        {
            foreach (string path in Directory.EnumerateFileSystemEntries(rootfs, "*", SearchOption.AllDirectories))
            {
                writer.WriteEntry(path, Path.GetRelativePath(rootfs, path));
            }

            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "data/dir/"));
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/old.txt") { DataStream = new MemoryStream("old"u8.ToArray()) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/dir/stale") { DataStream = new MemoryStream("stale"u8.ToArray()) });
        }

        layer.Position = 0;
        return layer;
    }

    private static MemoryStream Layer2(string escape)
    {
        var layer = new MemoryStream();
        using (var writer = new TarWriter(layer, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/.wh.old.txt") { DataStream = new MemoryStream() });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/dir/.wh..wh..opq") { DataStream = new MemoryStream() });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/dir/fresh") { DataStream = new MemoryStream() });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/new.txt") { DataStream = new MemoryStream("new\n"u8.ToArray()) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "data/evil") { LinkName = "/" });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/evil" + escape) { DataStream = new MemoryStream("pwned"u8.ToArray()) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "../../../.." + escape) { DataStream = new MemoryStream("pwned"u8.ToArray()) });
        }

        layer.Position = 0;
        return layer;
    }

    [Fact]
    public async Task Capture_MakesASnapshotOfTheBoxFiles_ThatNewBoxesBootFrom()
    {
        await using var source = await fixture.Client.CreateSandboxAsync();
        await source.WriteFileAsync("/home/user/cap.txt", "captured");
        await source.RunAsync("echo tool > /usr/local/bin/captool; rm -f /etc/motd");
        string name = Unique("capture");
        var snapshot = await source.CaptureSnapshotAsync(name);
        Assert.Equal("ready", snapshot.Status);
        Assert.Equal(source.Info.Id, snapshot.SourceSandboxId);

        await using var copy = await fixture.Client.CreateSandboxAsync(new CreateSandboxOptions { SnapshotId = snapshot.Id });
        Assert.Equal("captured", (await copy.RunAsync("cat /home/user/cap.txt")).Stdout);
        Assert.Equal("tool\n", (await copy.RunAsync("cat /usr/local/bin/captool")).Stdout);
        Assert.Equal("gone\n", (await copy.RunAsync("[ -e /etc/motd ] && echo present || echo gone")).Stdout);

        var inUse = await Assert.ThrowsAnyAsync<SandboxException>(() => fixture.Client.DeleteSnapshotAsync(snapshot.Id));
        Assert.Equal(409, (int?)inUse.StatusCode);
        await copy.DeleteAsync();
        await fixture.Client.DeleteSnapshotAsync(snapshot.Id);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => fixture.Client.GetSnapshotAsync(snapshot.Id));
    }

    [Fact]
    public async Task SnapshotSource_InsideTheDataDirectory_IsRefused()
    {
        var error = await Assert.ThrowsAsync<SandboxValidationException>(() => fixture.Client.CreateSnapshotAsync(Unique("data"), "dir:" + fixture.Server.DataDirectory + "/boxes", 0));
        Assert.Equal("docker_image", error.Field);
        await Assert.ThrowsAsync<SandboxValidationException>(() => fixture.Client.CreateSnapshotAsync(Unique("root"), "dir:/", 0));
    }

    [Fact]
    public async Task BoxFromASnapshotThatCannotBoot_FailsWithTheReason_AndTheServerKeepsServing()
    {
        string empty = Path.Combine(_work, "no-shell");
        Directory.CreateDirectory(Path.Combine(empty, "etc"));
        await File.WriteAllTextAsync(Path.Combine(empty, "etc/hostname"), "x");
        string name = Unique("broken");
        await fixture.Client.CreateSnapshotAsync(name, empty, 0);
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => fixture.Client.CreateSandboxAsync(new CreateSandboxOptions { SnapshotName = name }));
        Assert.Contains("/bin/sh", error.Message, StringComparison.Ordinal);
        var box = await fixture.CreateBoxAsync();
        Assert.Equal("ok\n", (await fixture.ExecAsync(box.Id!, "echo ok")).Stdout);
        await fixture.DeleteBoxAsync(box.Name);
    }
}
