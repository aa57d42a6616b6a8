using System.Collections.Concurrent;
using Sandbox.Client;
using Sandbox.Protocol;

namespace Sandbox.Server.Tests.Snapshots;

/// <summary>
/// Dockerfile snapshots through the C# client's Dockerfile flow (the same orchestration as the official SDKs: builder
/// sandbox, context tar upload, the BuildKit script, capture by tag), built by the server itself; FROM an image pushed
/// to a loopback registry, or a snapshot of the server.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DockerfileBuildTests(ServerFixture fixture, LoopbackRegistryFixture registry)
    : IClassFixture<ServerFixture>, IClassFixture<LoopbackRegistryFixture>, IDisposable
{
    private readonly string _context = Directory.CreateTempSubdirectory("dockerfile-context-").FullName;

    public void Dispose() => Directory.Delete(_context, recursive: true);

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> UseRegistryAsync()
    {
        await fixture.Client.Registries.CreateAsync(registry.BasicRegistry());
        return $"127.0.0.1:{registry.BasicPort}/mini:v1";
    }

    private void Write(string relative, string content)
    {
        string path = Path.Combine(_context, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private async Task<(SnapshotInfo? Snapshot, Exception? Error, string Log)> BuildAsync(string name, IReadOnlyDictionary<string, string>? args = null)
    {
        var log = new ConcurrentQueue<string>();
        try
        {
            var snapshot = await fixture.Client.CreateSnapshotFromDockerfileAsync(name, _context, new DockerfileSnapshotOptions
            {
                BuildArgs = args,
                Timeout = TimeSpan.FromMinutes(5),
                BuildTimeout = TimeSpan.FromMinutes(5),
                OnOutput = chunk => log.Enqueue(chunk.Data),
            });
            return (snapshot, null, string.Concat(log));
        }
        catch (Exception e) when (e is ResourceCreationException or SandboxException)
        {
            return (null, e, string.Concat(log));
        }
    }

    private async Task<string> ShAsync(string snapshotName, string command)
    {
        var result = await fixture.ShInNewBoxAsync(snapshotName, command);
        return result.Stdout + result.Stderr;
    }

    /// <summary>Nothing of a build is left: no build sandbox, no builder, no unnamed built snapshot, no snapshot of <paramref name="name"/>.</summary>
    private async Task AssertNothingLeftAsync(string name)
    {
        var boxes = await fixture.Client.ListSandboxesAsync();
        Assert.DoesNotContain(boxes, b => b.Name!.StartsWith("dockerfile-build-", StringComparison.Ordinal) || b.Name!.StartsWith("snapshot-builder-", StringComparison.Ordinal));
        var snapshots = await fixture.Client.ListSnapshotsAsync();
        Assert.DoesNotContain(snapshots, s => s.Name == name || s.Name!.StartsWith("langsmith-snapshot-build:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunCopyEnvWorkdir_FromAPushedImage_AreInTheSnapshot_AndItsBoxes()
    {
        string image = await UseRegistryAsync();
        Write("Dockerfile", $"""
            # syntax=docker/dockerfile:1
            ARG BASE={image}
            FROM $BASE
            ARG GREETING=hello
            ENV APP_HOME=/opt/app \
                MESSAGE="${"{"}GREETING{"}"} world"
            WORKDIR $APP_HOME
            COPY app.txt ./
            COPY conf/ conf/
            RUN echo "built as $(id -u) in $(pwd): $MESSAGE, image FOO=$FOO" > built.txt && cat built.txt
            LABEL team=sandbox
            CMD ["sh"]
            """);
        Write("app.txt", "app-content\n");
        Write("conf/a.conf", "conf-a\n");
        Write("conf/deep/b.conf", "conf-b\n");
        string name = Unique("from-dockerfile");

        var (snapshot, error, log) = await BuildAsync(name, new Dictionary<string, string> { ["GREETING"] = "hi" });

        Assert.True(error is null, error?.Message + "\n" + log);
        Assert.Equal("ready", snapshot!.Status);
        Assert.Equal(name, snapshot.Name);
        Assert.Equal("/opt/app", snapshot.RunConfig?.WorkDir);
        Assert.Equal("hi world", snapshot.RunConfig?.EnvVars?["MESSAGE"]);
        Assert.Equal("from-image", snapshot.RunConfig?.EnvVars?["FOO"]);
        Assert.Equal("sandbox", snapshot.Labels?["team"]);
        Assert.Contains("step 5/9 COPY app.txt ./", log, StringComparison.Ordinal);
        Assert.Contains("built as 0 in /opt/app: hi world, image FOO=from-image", log, StringComparison.Ordinal);
        Assert.Contains("CMD is image metadata", log, StringComparison.Ordinal);

        string seen = await ShAsync(name, "pwd; echo \"$MESSAGE|$APP_HOME|$FOO|${GREETING:-no-arg}\"; cat app.txt conf/a.conf conf/deep/b.conf built.txt");
        Assert.Equal("/opt/app\nhi world|/opt/app|from-image|no-arg\napp-content\nconf-a\nconf-b\nbuilt as 0 in /opt/app: hi world, image FOO=from-image\n", seen);
        await AssertNothingLeftAsync("langsmith-snapshot-build:none");

        // A second build FROM that snapshot: a failing RUN is named with its exit code and output; nothing is left.
        Write("Dockerfile", $"""
            FROM {name}
            RUN echo step-two-ok
            RUN echo "about to fail in $(pwd)" >&2; exit 3
            RUN echo never
            """);
        string failed = Unique("failing");
        (snapshot, error, log) = await BuildAsync(failed);

        Assert.Null(snapshot);
        Assert.IsType<ResourceCreationException>(error);
        Assert.Contains("step-two-ok", log, StringComparison.Ordinal);
        Assert.Contains("step 3/4 RUN echo \"about to fail in $(pwd)\" >&2; exit 3 failed with exit 3: about to fail in /opt/app", log, StringComparison.Ordinal);
        Assert.DoesNotContain("never", log.Replace("RUN echo never", "", StringComparison.Ordinal), StringComparison.Ordinal);
        await AssertNothingLeftAsync(failed);
    }

    [Fact]
    public async Task CopyOutsideTheContext_AndUnsupportedInstructions_AreRefusedByName()
    {
        string image = await UseRegistryAsync();
        string outside = Path.Combine(Path.GetDirectoryName(_context)!, "outside-" + Guid.NewGuid().ToString("N") + ".txt");
        await File.WriteAllTextAsync(outside, "host-only");
        try
        {
            File.CreateSymbolicLink(Path.Combine(_context, "abs-link"), "/etc/passwd");
            File.CreateSymbolicLink(Path.Combine(_context, "up-link"), "../" + Path.GetFileName(outside));
            Write("inside.txt", "inside\n");
            File.CreateSymbolicLink(Path.Combine(_context, "good-link"), "inside.txt");
            foreach (var (copy, expected) in new[]
            {
                ("COPY ../" + Path.GetFileName(outside) + " /x", "is outside the build context"),
                ("COPY abs-link /x", "'abs-link' is a symlink to the absolute path '/etc/passwd'"),
                ("COPY up-link /x", "a symlink in it points above the build context"),
                ("COPY --from=builder /a /b", "COPY --from: copying from another stage or image (multi-stage) is not supported"),
                ("ADD https://example.com/file /x", "ADD from a URL ('https://example.com/file') is not supported"),
                ("ONBUILD RUN echo", "ONBUILD is not supported"),
            })
            {
                Write("Dockerfile", $"FROM {image}\nCOPY good-link /ok.txt\n{copy}\n");
                string name = Unique("refused");
                var (snapshot, error, log) = await BuildAsync(name);
                Assert.Null(snapshot);
                Assert.True(error is ResourceCreationException, error?.ToString());
                Assert.Contains(expected, log, StringComparison.Ordinal);
                Assert.DoesNotContain("host-only", log, StringComparison.Ordinal);
                await AssertNothingLeftAsync(name);
            }

            // The in-context symlink is followed; its target's content is what lands in the snapshot.
            Write("Dockerfile", $"FROM {image}\nCOPY good-link /ok.txt\n");
            string good = Unique("symlink-ok");
            var built = await BuildAsync(good);
            Assert.True(built.Error is null, built.Error?.Message + "\n" + built.Log);
            Assert.Equal("inside\n", await ShAsync(good, "cat /ok.txt"));
        }
        finally
        {
            File.Delete(outside);
        }
    }
}
