namespace Sandbox.Protocol;

/// <summary>The lifecycle states a sandbox reports.</summary>
public static class SandboxStatus
{
    /// <summary>Being created or started.</summary>
    public const string Provisioning = "provisioning";

    /// <summary>Running and accepting data-plane requests.</summary>
    public const string Ready = "ready";

    /// <summary>Creation or start failed; see the status message.</summary>
    public const string Failed = "failed";

    /// <summary>Stopped; files are kept and a start (or any data-plane request) resumes it.</summary>
    public const string Stopped = "stopped";

    /// <summary>Being deleted.</summary>
    public const string Deleting = "deleting";
}
