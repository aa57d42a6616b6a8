namespace Sandbox.Server.Networking;

/// <summary>A box as the networking features see it.</summary>
/// <param name="Id">The box id.</param>
/// <param name="Name">The box name.</param>
/// <param name="NetworkNamespacePath">
/// <c>/proc/&lt;init pid&gt;/ns/net</c> of the running box; <see langword="null"/> when the box is not running.
/// </param>
internal sealed record BoxNetworkTarget(string Id, string Name, string? NetworkNamespacePath);
