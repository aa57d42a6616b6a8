namespace Sandbox.Server.Networking.Egress;

/// <summary>The egress policy or the server's safety rules refuse a destination.</summary>
internal sealed class EgressBlockedException(string reason) : Exception(reason)
{
}
