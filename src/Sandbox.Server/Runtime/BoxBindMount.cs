namespace Sandbox.Server.Runtime;

/// <summary>A read-only bind mount of host path <paramref name="Source"/> at absolute box path <paramref name="Destination"/>.</summary>
internal sealed record BoxBindMount(string Source, string Destination);
