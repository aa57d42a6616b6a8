using System.Net.Http.Json;
using System.Text.Json;
using Sandbox.Protocol;
using Sandbox.Server.Snapshots.Default;

namespace Sandbox.Server.Tests.Snapshots;

/// <summary>The Debian default snapshot: its own root filesystem from the machine's mirror, built once, shared by servers.</summary>
public sealed class DebianDefaultTests
{
    [Fact]
    public void Mirror_IsReadFromDeb822AndOneLineSources_WithoutThirdPartyRepositories()
    {
        string apt = Directory.CreateTempSubdirectory("apt-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(apt, "sources.list.d"));
            File.WriteAllText(Path.Combine(apt, "sources.list.d", "debian.sources"),
                "Types: deb\n# comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                + "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n");
            File.WriteAllText(Path.Combine(apt, "sources.list.d", "vendor.list"), "deb [signed-by=/k.gpg arch=amd64] https://vendor.example/apt stable main\n");
            File.WriteAllText(Path.Combine(apt, "sources.list"), "# deb http://old/debian bookworm main\n");
            var (sources, suite) = DebianRootfs.ReadMirror(apt);
            Assert.Equal("bookworm", suite);
            Assert.Equal(
                ["deb http://mirror.example/debian bookworm main contrib", "deb http://mirror.example/debian bookworm-updates main contrib", "deb http://mirror.example/debian-security bookworm-security main"],
                sources);
            Assert.NotEqual(DebianRootfs.CacheName(sources, suite), DebianRootfs.CacheName(sources.Take(1).ToList(), suite));
        }
        finally
        {
            Directory.Delete(apt, recursive: true);
        }
    }

    [Fact]
    public async Task ConcurrentServers_ShareOneCachedRootfs_WithPythonDataStackAndNoHostConfiguration()
    {
        var options = new LocalSandboxServerOptions { Configure = o => { o.DefaultSnapshot = DefaultSnapshotKind.Debian; o.WarmBoxes = 0; } };
        var starts = Enumerable.Range(0, 2).Select(_ => LocalSandboxServer.StartAsync(options)).ToList();
        var servers = await Task.WhenAll(starts);
        try
        {
            using var http = new HttpClient { BaseAddress = servers[0].LangSmithEndpoint, Timeout = TimeSpan.FromSeconds(120) };
            http.DefaultRequestHeaders.Add("X-Api-Key", servers[0].ApiKey);
            var snapshots = await Task.WhenAll(servers.Select(async s =>
            {
                using var client = s.CreateClient();
                return Assert.Single(await client.ListSnapshotsAsync(), x => x.Name == "default");
            }));
            Assert.Equal(snapshots[0].DockerImage, snapshots[1].DockerImage);
            Assert.StartsWith("debian:default-rootfs-", snapshots[0].DockerImage, StringComparison.Ordinal);

            using var create = await http.PostAsJsonAsync("/v2/sandboxes/boxes", new { wait_for_ready = true });
            var box = JsonSerializer.Deserialize<SandboxInfo>(await create.Content.ReadAsStringAsync(), SandboxJson.Options)!;
            using var run = await http.PostAsJsonAsync($"/dp/{box.Id}/execute", new
            {
                command = "python3 -c 'import matplotlib, pandas, numpy; print(\"stack\", pandas.__version__)'; node -e 'console.log(\"node\", process.version)'; "
                    + "git --version; gcc --version | head -1; pwd; [ -e /etc/apt/sources.list.d/nodesource.sources ] && echo host-config-visible; cat /etc/os-release | head -1",
                timeout = 120,
            });
            var result = JsonSerializer.Deserialize<ExecuteResponse>(await run.Content.ReadAsStringAsync(), SandboxJson.Options)!;
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Contains("stack ", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("node v", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("git version", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("/home/user\n", result.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("host-config-visible", result.Stdout, StringComparison.Ordinal);
            Assert.Contains("Debian", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }
}
