namespace Sandbox.Server.Networking.Egress;

/// <summary>Whether a destination may be reached, and why not.</summary>
internal readonly record struct EgressDecision(bool Allowed, string? Rule, string? Reason)
{
    public static EgressDecision Allow(string? rule) => new(true, rule, null);

    public static EgressDecision Block(string reason) => new(false, null, reason);
}
