using Sandbox.AgentTools;

namespace CodeInterpreterAgent.Output;

/// <summary>Where the live output of the running <c>run_code</c> call stands on the console.</summary>
internal sealed class LiveOutput(string callId)
{
    public string CallId { get; } = callId;

    /// <summary>At least one chunk of the call was printed (so the result's stdout/stderr are not printed again).</summary>
    public bool Streamed { get; set; }

    public bool AtLineStart { get; set; } = true;

    /// <summary>The stream of the line being written.</summary>
    public ToolOutputStream Stream { get; set; }

    /// <summary>Lines started so far.</summary>
    public int Lines { get; set; }

    /// <summary>Lines past the live limit, not printed.</summary>
    public int Hidden { get; set; }
}
