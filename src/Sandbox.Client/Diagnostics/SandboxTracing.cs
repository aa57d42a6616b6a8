using System.Diagnostics;

namespace Sandbox.Client.Diagnostics;

/// <summary>
/// The .NET form of the SDK 0.12 tracing hook (delta §9): a sandbox operation inside a traced operation records the
/// sandbox's id on it. The official SDKs merge <c>sandbox_id</c> into the enclosing LangSmith run's metadata; with
/// OpenTelemetry the enclosing run is <see cref="Activity.Current"/>, and LangSmith maps <c>langsmith.metadata.*</c>
/// attributes to run metadata. The last sandbox touched wins, as in the SDKs.
/// </summary>
internal static class SandboxTracing
{
    /// <summary>The attribute LangSmith's OpenTelemetry ingestion maps to the run metadata key <c>sandbox_id</c>.</summary>
    public const string SandboxIdAttribute = "langsmith.metadata.sandbox_id";

    public static void RecordSandbox(string? sandboxId)
    {
        if (!string.IsNullOrEmpty(sandboxId) && Activity.Current is { IsAllDataRequested: true } activity)
        {
            activity.SetTag(SandboxIdAttribute, sandboxId);
        }
    }
}
