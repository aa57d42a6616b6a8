using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Snapshots;

/// <summary>Snapshots built by image reference from real registries on loopback (basic and token auth).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RegistryPullTests(ServerFixture fixture, LoopbackRegistryFixture registry)
    : IClassFixture<ServerFixture>, IClassFixture<LoopbackRegistryFixture>
{
    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private string BasicUrl => registry.BasicUrl;

    private Task<RegistryInfo> AddBasicRegistryAsync(string? password = null) => fixture.Client.Registries.CreateAsync(registry.BasicRegistry(password));

    private Task<ExecuteResponse> ShAsync(string snapshotName, string command) => fixture.ShInNewBoxAsync(snapshotName, command);

    private string SnapshotFolder(string id) => Path.Combine(fixture.Server.DataDirectory, "snapshots", id);

    [Fact]
    public async Task BasicAuth_MultiLayerImage_AppliesWhiteoutsAndImageConfig_AndCredentialsStayPrivate()
    {
        var created = await AddBasicRegistryAsync();
        string name = Unique("pulled");
        var snapshot = await fixture.Client.CreateSnapshotAsync(name, $"127.0.0.1:{registry.BasicPort}/mini:v1", 1L << 30,
            new CreateSnapshotOptions { RegistryId = created.Id, Timeout = TimeSpan.FromSeconds(120) });

        Assert.Equal("ready", snapshot.Status);
        Assert.StartsWith("sha256:", snapshot.ImageDigest, StringComparison.Ordinal);
        Assert.Equal(created.Id, snapshot.RegistryId);
        Assert.Equal("/srv", snapshot.RunConfig?.WorkDir);
        var result = await ShAsync(name, "cat /etc/marker /etc/layer2; [ -e /usr/share/gone.txt ] && echo gone-present; [ -e /opt/old ] && echo old-present; echo \"FOO=$FOO\"; pwd; env");
        Assert.Contains("layer-one\nlayer-two\n", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("present", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("FOO=from-image\n/srv\n", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(registry.BasicPassword, result.Stdout, StringComparison.Ordinal);

        // Credentials are write-only: never in get/list responses; stored 0600.
        string listed = await fixture.Http.GetStringAsync("/api/v2/sandboxes/registries");
        string got = await fixture.Http.GetStringAsync($"/api/v2/sandboxes/registries/{created.Name}");
        Assert.Contains(created.Id!, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(registry.BasicPassword, listed + got, StringComparison.Ordinal);
        Assert.DoesNotContain("password", listed + got, StringComparison.OrdinalIgnoreCase);
        string file = Path.Combine(fixture.Server.DataDirectory, "registries", created.Id + ".json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.DoesNotContain(registry.BasicPassword, await File.ReadAllTextAsync(Path.Combine(SnapshotFolder(snapshot.Id), "snapshot.json")), StringComparison.Ordinal);

        await fixture.Client.Registries.DeleteAsync(created.Name!);
        Assert.False(File.Exists(file));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => fixture.Client.Registries.GetAsync(created.Name!));
    }

    [Fact]
    public async Task ZstdLayers_AreApplied_AndLayersAreCachedByDigestAcrossSnapshots()
    {
        var created = await AddBasicRegistryAsync();
        string first = Unique("zstd");
        await fixture.Client.CreateSnapshotAsync(first, $"127.0.0.1:{registry.BasicPort}/minizstd:v1", 0, new CreateSnapshotOptions { RegistryId = created.Id, Timeout = TimeSpan.FromSeconds(120) });
        var result = await ShAsync(first, "cat /etc/layer2; [ -e /usr/share/gone.txt ] || echo whiteout-applied");
        Assert.Equal("layer-two\nwhiteout-applied\n", result.Stdout);

        string cache = Path.Combine(fixture.Server.DataDirectory, "layers", "sha256");
        var before = Directory.GetFiles(cache).Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList();
        Assert.True(before.Count >= 2);
        string second = Unique("zstd-again");
        var again = await fixture.Client.CreateSnapshotAsync(second, $"127.0.0.1:{registry.BasicPort}/minizstd:v1", 0, new CreateSnapshotOptions { RegistryId = created.Id });
        Assert.Equal("ready", again.Status);
        var after = Directory.GetFiles(cache).Select(f => (f, File.GetLastWriteTimeUtc(f))).ToList();
        Assert.Equal(before.OrderBy(x => x.f), after.OrderBy(x => x.f));
        Assert.Empty(Directory.GetFiles(Path.Combine(fixture.Server.DataDirectory, "layers"), "tmp-*"));
    }

    [Fact]
    public async Task TokenAuth_PullsWithABearerToken_AndAnonymousPullSaysCredentialsAreNeeded()
    {
        string image = $"127.0.0.1:{registry.TokenPort}/private/mini:v1";
        var anonymous = await Assert.ThrowsAsync<ResourceCreationException>(() => fixture.Client.CreateSnapshotAsync(Unique("anon"), image, 0));
        Assert.Contains("needs credentials", anonymous.Message, StringComparison.Ordinal);

        var created = await fixture.Client.Registries.CreateAsync(new RegistryRequest
        {
            Name = Unique("token"),
            Url = $"127.0.0.1:{registry.TokenPort}",
            Username = LoopbackRegistryFixture.TokenUser,
            Password = registry.TokenPassword,
        });
        int tokensBefore = Volatile.Read(ref registry.TokenRequests);
        string name = Unique("token-pulled");
        var snapshot = await fixture.Client.CreateSnapshotAsync(name, "private/mini:v1", 0, new CreateSnapshotOptions { RegistryId = created.Id, Timeout = TimeSpan.FromSeconds(120) });
        Assert.Equal("ready", snapshot.Status);
        Assert.True(Volatile.Read(ref registry.TokenRequests) > tokensBefore);
        Assert.Equal("layer-two\n", (await ShAsync(name, "cat /etc/layer2")).Stdout);
    }

    [Fact]
    public async Task WrongPassword_FailsClearly_AndLeavesNoRootfs()
    {
        var created = await AddBasicRegistryAsync(password: "not-the-password");
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => fixture.Client.CreateSnapshotAsync(Unique("wrongpw"), $"127.0.0.1:{registry.BasicPort}/mini:v1", 0, new CreateSnapshotOptions { RegistryId = created.Id }));
        Assert.Contains("were rejected (wrong username or password?)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", error.Message, StringComparison.Ordinal);
        await AssertNothingHalfMadeAsync();
    }

    [Fact]
    public async Task MissingTag_FailsWithNotFound()
    {
        var created = await AddBasicRegistryAsync();
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => fixture.Client.CreateSnapshotAsync(Unique("missing"), $"127.0.0.1:{registry.BasicPort}/mini:no-such-tag", 0, new CreateSnapshotOptions { RegistryId = created.Id }));
        Assert.Contains("tag 'no-such-tag' was not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("MANIFEST_UNKNOWN", error.Message, StringComparison.Ordinal);
        await AssertNothingHalfMadeAsync();
    }

    [Fact]
    public async Task CorruptedLayer_FailsVerification_AndIsNotCached()
    {
        string blob = await registry.BlobPathAsync("unique");
        byte[] data = await File.ReadAllBytesAsync(blob);
        data[data.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(blob, data); // same length, different digest
        var created = await AddBasicRegistryAsync();
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => fixture.Client.CreateSnapshotAsync(Unique("corrupt"), $"127.0.0.1:{registry.BasicPort}/unique:v1", 0, new CreateSnapshotOptions { RegistryId = created.Id }));
        string digest = Path.GetFileName(Path.GetDirectoryName(blob))!;
        Assert.Contains($"Layer sha256:{digest} failed verification", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(fixture.Server.DataDirectory, "layers", "sha256", digest)));
        await AssertNothingHalfMadeAsync();
    }

    [Fact]
    public async Task OversizedLayer_IsRefusedBeforeDownload()
    {
        await using var small = await LocalSandboxServer.StartAsync(new LocalSandboxServerOptions { Configure = o => { o.MaxImageLayerBytes = 100_000; o.WarmBoxes = 0; } });
        using var client = small.CreateClient();
        var created = await client.Registries.CreateAsync(new RegistryRequest { Name = "r", Url = BasicUrl, Username = LoopbackRegistryFixture.BasicUser, Password = registry.BasicPassword });
        var error = await Assert.ThrowsAsync<ResourceCreationException>(() => client.CreateSnapshotAsync("big", $"127.0.0.1:{registry.BasicPort}/mini:v1", 0, new CreateSnapshotOptions { RegistryId = created.Id }));
        Assert.Contains("larger than the server's limit of 100000 bytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(small.DataDirectory, "layers"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task RegistryCredentials_AreNeverSentToAnotherHost()
    {
        var created = await AddBasicRegistryAsync();
        var error = await Assert.ThrowsAsync<SandboxValidationException>(() => fixture.Client.CreateSnapshotAsync(Unique("elsewhere"), $"127.0.0.2:{registry.BasicPort}/mini:v1", 0, new CreateSnapshotOptions { RegistryId = created.Id }));
        Assert.Equal("registry_id", error.Field);
        Assert.Contains("credentials are only sent to their own registry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RegistryApi_ValidatesAndConflicts()
    {
        var invalid = await Assert.ThrowsAsync<SandboxValidationException>(() => fixture.Client.Registries.CreateAsync(new RegistryRequest { Name = "x", Url = "" }));
        Assert.Equal("url", invalid.Field);
        var created = await AddBasicRegistryAsync();
        var conflict = await Assert.ThrowsAnyAsync<SandboxException>(() => fixture.Client.Registries.CreateAsync(new RegistryRequest { Name = created.Name, Url = BasicUrl }));
        Assert.Contains("already in use", conflict.Message, StringComparison.Ordinal);
        var renamed = await fixture.Client.Registries.UpdateAsync(created.Name!, new RegistryRequest { Name = created.Name + "-renamed" });
        Assert.Equal(created.Id, renamed.Id);
        Assert.Equal(BasicUrl, renamed.Url);
    }

    /// <summary>Failed pulls leave no root filesystem and no partial download behind.</summary>
    private async Task AssertNothingHalfMadeAsync()
    {
        var failed = (await fixture.Client.ListSnapshotsAsync()).Where(s => s.Status == "failed").ToList();
        Assert.NotEmpty(failed);
        foreach (var s in failed)
        {
            Assert.False(Directory.Exists(Path.Combine(SnapshotFolder(s.Id), "rootfs")), $"rootfs of failed snapshot {s.Name} left behind");
        }

        Assert.Empty(Directory.GetFiles(Path.Combine(fixture.Server.DataDirectory, "layers"), "tmp-*"));
    }
}
