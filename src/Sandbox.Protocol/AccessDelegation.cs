namespace Sandbox.Protocol;

/// <summary>LangSmith API access granted to code inside a sandbox.</summary>
public sealed record AccessDelegation
{
    /// <summary><c>INHERIT</c> (everything the creator can do) or <c>EXPLICIT</c> (capped to <see cref="Permissions"/>).</summary>
    public string Mode { get; set; } = "INHERIT";

    /// <summary>Permissions for <c>EXPLICIT</c> mode; absent for <c>INHERIT</c>.</summary>
    public IReadOnlyList<string>? Permissions { get; init; }
}
