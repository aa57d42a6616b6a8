namespace Sandbox.Server.Errors;

/// <summary>A box, snapshot or registry named by the caller does not exist.</summary>
internal sealed class NotFoundException : DomainException
{
    private NotFoundException(string kind, string name)
        : base($"{kind} '{name}' not found")
    {
        Kind = kind;
        Name = name;
    }

    /// <summary>What was looked up: <c>Sandbox</c>, <c>Snapshot</c> or <c>Registry</c>.</summary>
    public string Kind { get; }

    /// <summary>The name or id the caller gave.</summary>
    public string Name { get; }

    public static NotFoundException Box(string name) => new("Sandbox", name);

    public static NotFoundException Snapshot(string idOrName) => new("Snapshot", idOrName);

    public static NotFoundException Registry(string idOrName) => new("Registry", idOrName);
}
