using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Sandbox.Protocol;
using Sandbox.Server.Errors;
using Sandbox.Server.Files;
using Sandbox.Server.Runtime;
using Sandbox.Server.Snapshots.Registry;

namespace Sandbox.Server.Snapshots.Dockerfile;

/// <summary>
/// Builds a Dockerfile into a snapshot on this server, without BuildKit: FROM resolves to a snapshot of this server or to an
/// image pulled from a registry (<see cref="ImagePuller"/>); every RUN runs in a build sandbox created from it, with the
/// builder sandbox's limits and the same isolation as any sandbox (unprivileged ids, capability set, seccomp, cgroups),
/// and with the builder's <c>proxy_config</c> as its only egress (none by default); COPY/ADD copy from the uploaded
/// context (<see cref="BuildContext"/>); ENV, WORKDIR, USER (and ARG, SHELL, LABEL) are tracked and recorded in the
/// snapshot's run config; the build sandbox's writable layer is then captured as the snapshot. A failure names its step
/// and removes the build sandbox (and a base image pulled only for this build), so nothing half-made is left.
/// </summary>
internal sealed class DockerfileBuilder
{
    private readonly BoxManager _boxes;

    public DockerfileBuilder(BoxManager boxes) => _boxes = boxes;

    /// <summary>Builds <paramref name="request"/> from <paramref name="builder"/>'s context; returns the captured snapshot (named after the tag).</summary>
    public async Task<SnapshotRecord> BuildAsync(Box builder, RunningBox builderRunning, BuildScriptRequest request, Action<string> log, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        string text = BuildContext.ReadText(builderRunning.Files, request.DockerfilePath);
        var all = DockerfileParser.Parse(text);
        var (globalArgs, stage) = DockerfileStages.SelectStage(all, request.Target);
        foreach (var instruction in stage)
        {
            DockerfileStages.Validate(instruction);
        }

        var context = new BuildContext(builderRunning.Files, request.ContextDirectory);
        log($"Dockerfile build by the sandbox server (no BuildKit): {request.DockerfilePath}, context {request.ContextDirectory}, {stage.Count} steps");

        var global = DockerfileStages.GlobalVariables(globalArgs, request.BuildArgs);

        var from = stage[0];
        string fromText = from.Text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[0];
        string imageName = DockerfileParser.Expand(fromText, global, from.Line);
        log($"step 1/{stage.Count} {from.Display}");
        var bases = new BaseImageResolver(_boxes);
        var (baseSnapshot, pulledNow) = await bases.ResolveAsync(imageName, from, log, cancellationToken).ConfigureAwait(false);

        Box? buildBox = null;
        SnapshotRecord? result = null;
        try
        {
            buildBox = await _boxes.CreateAsync(new BoxCreateParameters
            {
                Name = "dockerfile-build-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
                Snapshot = baseSnapshot.Id,
                Vcpus = builder.Record.Vcpus,
                MemBytes = builder.Record.MemBytes,
                FsCapacityBytes = builder.Record.FsCapacityBytes,
                ProxyConfig = builder.Record.ProxyConfig,
                Labels = new Dictionary<string, string> { ["sandbox.dockerfile-build-for"] = builder.Name },
                WaitForReady = true,
                Persistent = true,
            }, cancellationToken).ConfigureAwait(false);
            var running = await _boxes.EnsureRunningAsync(buildBox, cancellationToken).ConfigureAwait(false);
            var state = new BuildState(baseSnapshot.RunConfig, global, request.BuildArgs);
            var steps = new BuildStepExecutor(_boxes, context, buildBox, running, log);
            for (int i = 1; i < stage.Count; i++)
            {
                var step = stage[i];
                string name = $"step {i + 1}/{stage.Count} {step.Display}";
                log(name);
                try
                {
                    await steps.ExecuteAsync(step, state, cancellationToken).ConfigureAwait(false);
                }
                catch (DockerfileBuildException e) when (e.Error != DockerfileBuildError.StepFailed)
                {
                    throw new DockerfileBuildException(e.Error, $"{name} failed: {e.Message}", e);
                }
                catch (StepExitException e)
                {
                    throw new DockerfileBuildException(DockerfileBuildError.StepFailed, $"{name} failed with exit {e.ExitCode}: {e.Tail}");
                }
                catch (Exception e) when (e is BoxFileException or IOException or DomainException)
                {
                    throw new DockerfileBuildException(DockerfileBuildError.StepFailed, $"{name} failed: {e.Message}", e);
                }
            }

            log($"capturing the build sandbox as {request.Tag}");
            result = await _boxes.Snapshots.CaptureAsync(baseSnapshot, buildBox.Id, _boxes.UpperLayersPath(buildBox, running), request.Tag,
                builder.Record.FsCapacityBytes, state.RunConfig(), cancellationToken, _boxes.UnshiftCapturedLayer).ConfigureAwait(false);
            if (result.Status != SnapshotStatus.Ready)
            {
                throw new DockerfileBuildException(DockerfileBuildError.Internal, result.StatusMessage ?? "the capture failed");
            }

            if (state.Labels.Count > 0)
            {
                result.Labels = new Dictionary<string, string>(state.Labels, StringComparer.Ordinal);
                _boxes.Snapshots.Save(result);
            }

            log(string.Create(CultureInfo.InvariantCulture, $"built {request.Tag} in {watch.Elapsed.TotalSeconds:0.0} s (env {state.Env.Count} variables, workdir {state.WorkDir ?? "(default)"}, user {state.User ?? "root"})"));
            return result;
        }
        catch
        {
            if (result is not null)
            {
                bases.TryDeleteSnapshot(result.Id);
            }

            if (pulledNow && buildBox is not null)
            {
                await DeleteBoxAsync(buildBox).ConfigureAwait(false);
                buildBox = null;
                bases.TryDeleteSnapshot(baseSnapshot.Id);
            }
            else if (pulledNow)
            {
                bases.TryDeleteSnapshot(baseSnapshot.Id);
            }

            throw;
        }
        finally
        {
            if (buildBox is not null)
            {
                await DeleteBoxAsync(buildBox).ConfigureAwait(false);
            }
        }
    }

    private async Task DeleteBoxAsync(Box box)
    {
        try
        {
            await _boxes.DeleteAsync(box, CancellationToken.None).ConfigureAwait(false);
        }
        catch (DomainException)
        {
            // already gone
        }
    }
}
