using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Protocol;

namespace Sandbox.Client;

/// <summary>Snapshot from a local Dockerfile: orchestration of existing calls (spec §6.18).</summary>
public sealed partial class SandboxClient
{
    /// <summary>
    /// Builds a snapshot from a local Dockerfile: creates a builder sandbox (<c>snapshot-builder-…</c>), uploads the
    /// context as a tar (without <c>.git</c>) under <c>/var/lib/langsmith-build/&lt;id&gt;/</c>, builds it with BuildKit into
    /// Docker, captures the image as a snapshot and deletes the builder (deletion errors are ignored, as in Python).
    /// </summary>
    /// <param name="name">The snapshot name.</param>
    /// <param name="contextDirectory">The local build context.</param>
    /// <param name="options">Dockerfile, target, build args, resources, timeouts and a log callback.</param>
    /// <param name="cancellationToken">Cancels the flow (the builder is still deleted).</param>
    /// <returns>The ready snapshot.</returns>
    /// <exception cref="ResourceCreationException">The build failed (resource type <c>snapshot</c>).</exception>
    /// <remarks>
    /// The sandbox image must provide <c>buildkitd</c>, <c>buildctl</c> and <c>docker</c>, or the server must build the
    /// script's Dockerfile itself, as the local Sandbox.Server does (its build log then streams to
    /// <see cref="DockerfileSnapshotOptions.OnOutput"/> and names a failing step).
    /// </remarks>
    public async Task<SnapshotInfo> CreateSnapshotFromDockerfileAsync(string name, string contextDirectory, DockerfileSnapshotOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(contextDirectory);
        if (!Directory.Exists(contextDirectory))
        {
            throw new DirectoryNotFoundException($"Build context '{contextDirectory}' does not exist");
        }

        options ??= new DockerfileSnapshotOptions();
        var buildId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var buildDir = "/var/lib/langsmith-build/" + buildId;
        var tarPath = buildDir + "/context.tar";
        var tag = "langsmith-snapshot-build:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

        var builder = await CreateSandboxAsync(new CreateSandboxOptions
        {
            Name = "snapshot-builder-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
            WaitForReady = true,
            Timeout = options.Timeout,
            Vcpus = options.Vcpus,
            MemBytes = options.MemBytes,
            FsCapacityBytes = options.FsCapacityBytes,
        }, cancellationToken).ConfigureAwait(false);
        await using (builder.ConfigureAwait(false))
        {
            var tarFile = Path.Combine(Path.GetTempPath(), $"sandbox-context-{buildId}.tar");
            try
            {
                await WriteContextTarAsync(contextDirectory, tarFile, cancellationToken).ConfigureAwait(false);
                var upload = new FileStream(tarFile, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
                await using (upload.ConfigureAwait(false))
                {
                    await builder.WriteFileAsync(tarPath, upload, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                File.Delete(tarFile);
            }

            var extract = $"rm -rf {Quote(buildDir + "/context")} && mkdir -p {Quote(buildDir + "/context")} && tar -xf {Quote(tarPath)} -C {Quote(buildDir + "/context")}";
            var extracted = await builder.RunAsync(extract, new RunOptions { Timeout = TimeSpan.FromMinutes(10) }, cancellationToken).ConfigureAwait(false);
            if (extracted.ExitCode != 0)
            {
                throw new ResourceCreationException($"Dockerfile snapshot build failed: could not extract the build context: {extracted.Stderr.Trim()}", "snapshot");
            }

            var build = await builder.RunAsync(BuildScript(buildDir, tag, options), new RunOptions
            {
                Timeout = options.BuildTimeout,
                OnOutput = options.OnOutput,
            }, cancellationToken).ConfigureAwait(false);
            if (build.ExitCode != 0)
            {
                throw new ResourceCreationException("Dockerfile snapshot build failed", "snapshot");
            }

            return await CaptureSnapshotAsync(builder.Name, name, new CaptureSnapshotOptions
            {
                DockerImage = tag,
                FsCapacityBytes = options.FsCapacityBytes,
                Timeout = options.Timeout,
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static string BuildScript(string buildDir, string tag, DockerfileSnapshotOptions options)
    {
        var build = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"buildctl --addr \"$SOCK\" build --frontend dockerfile.v0")
            .Append(CultureInfo.InvariantCulture, $" --local context={Quote(buildDir + "/context")} --local dockerfile={Quote(buildDir + "/context")}")
            .Append(CultureInfo.InvariantCulture, $" --opt filename={Quote(options.Dockerfile)}");
        if (!string.IsNullOrEmpty(options.Target))
        {
            build.Append(CultureInfo.InvariantCulture, $" --opt target={Quote(options.Target)}");
        }

        foreach (var (key, value) in (options.BuildArgs ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            build.Append(CultureInfo.InvariantCulture, $" --opt {Quote("build-arg:" + key + "=" + value)}");
        }

        build.Append(CultureInfo.InvariantCulture, $" --output type=docker,name={Quote(tag)} | docker load");
        return $$"""
            set -euo pipefail
            BUILD_DIR={{Quote(buildDir)}}
            ROOT="$BUILD_DIR/buildkit-root"
            RUN_DIR="$BUILD_DIR/buildkit-run"
            SOCK="unix://$RUN_DIR/buildkitd.sock"
            mkdir -p "$ROOT" "$RUN_DIR"
            buildkitd --oci-worker=true --containerd-worker=false --oci-worker-snapshotter=native --root "$ROOT" --addr "$SOCK" >"$BUILD_DIR/buildkitd.log" 2>&1 &
            BK_PID=$!
            cleanup() { kill "$BK_PID" 2>/dev/null || true; wait "$BK_PID" 2>/dev/null || true; rm -rf "$ROOT"; }
            trap cleanup EXIT
            for _ in $(seq 1 30); do buildctl --addr "$SOCK" debug workers >/dev/null 2>&1 && break; sleep 1; done
            buildctl --addr "$SOCK" debug workers >/dev/null 2>&1 || { echo "buildkitd did not start" >&2; cat "$BUILD_DIR/buildkitd.log" >&2; exit 1; }
            for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
            docker info >/dev/null 2>&1 || { echo "docker is not available in the builder sandbox" >&2; exit 1; }
            {{build}}
            """;
    }

    /// <summary>Writes the context directory as a tar, excluding every <c>.git</c> entry (directories and symlinks kept).</summary>
    internal static async Task WriteContextTarAsync(string contextDirectory, string tarFile, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(contextDirectory);
        var output = new FileStream(tarFile, FileMode.Create, FileAccess.Write, FileShare.None, 81920, useAsync: true);
        await using (output.ConfigureAwait(false))
        {
            var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
            await using (writer.ConfigureAwait(false))
            {
                var pending = new Stack<string>();
                pending.Push(root);
                while (pending.Count > 0)
                {
                    var directory = pending.Pop();
                    foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal))
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (entry.Name == ".git")
                        {
                            continue;
                        }

                        var relative = Path.GetRelativePath(root, entry.FullName).Replace('\\', '/');
                        if (entry is DirectoryInfo dir && dir.LinkTarget is null)
                        {
                            await writer.WriteEntryAsync(entry.FullName, relative + "/", cancellationToken).ConfigureAwait(false);
                            pending.Push(entry.FullName);
                        }
                        else
                        {
                            await writer.WriteEntryAsync(entry.FullName, relative, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }
        }
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\"'\"'", StringComparison.Ordinal) + "'";
}
