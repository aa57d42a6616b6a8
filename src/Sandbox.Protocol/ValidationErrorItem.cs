namespace Sandbox.Protocol;

/// <summary>One entry of a validation-list error detail.</summary>
public sealed record ValidationErrorItem
{
    /// <summary>Location, e.g. <c>["body", "vcpus"]</c>; the last element is the field.</summary>
    public IReadOnlyList<string> Loc { get; set; } = [];

    /// <summary>Message.</summary>
    public string Msg { get; set; } = "";

    /// <summary>Error type, e.g. <c>value_error</c>.</summary>
    public string Type { get; set; } = "value_error";
}
