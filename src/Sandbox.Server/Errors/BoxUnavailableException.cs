namespace Sandbox.Server.Errors;

/// <summary>A box cannot run now: this host cannot isolate boxes at all, or the box could not be (re)started.</summary>
internal sealed class BoxUnavailableException : DomainException
{
    private BoxUnavailableException(string message, bool hostCannotRunBoxes)
        : base(message)
    {
        HostCannotRunBoxes = hostCannotRunBoxes;
    }

    /// <summary>True when no box can run on this host (missing isolation), false when this one box failed to start.</summary>
    public bool HostCannotRunBoxes { get; }

    public static BoxUnavailableException IsolationUnavailable(string reason) =>
        new("Sandboxes cannot run on this server: " + reason, hostCannotRunBoxes: true);

    public static BoxUnavailableException StartFailed(string name, string? statusMessage) =>
        new($"Sandbox '{name}' could not be started: {statusMessage}", hostCannotRunBoxes: false);
}
