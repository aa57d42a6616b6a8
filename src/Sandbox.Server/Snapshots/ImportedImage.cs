using Sandbox.Protocol;

namespace Sandbox.Server.Snapshots;

/// <summary>What an imported image says about how to run it (USER, WORKDIR, ENV) and its digest.</summary>
internal sealed record ImportedImage(RunConfig? RunConfig, string? Digest);
