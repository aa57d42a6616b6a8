namespace Sandbox.AgentTools;

/// <summary>Limits and behaviour of the sandbox tools (<c>run_code</c>, <c>write_file</c>, <c>read_file</c>, <c>expose_port</c>, <c>list_files</c>).</summary>
/// <remarks>Bindable from configuration. Read when the tools are created.</remarks>
public sealed class SandboxToolOptions
{
    /// <summary>Directory the tools are confined to and where code runs (default <c>/home/user</c>).</summary>
    public string WorkspaceRoot { get; set; } = "/home/user";

    /// <summary>Directory in the box for the interpreter drivers and per-call output (default <c>/tmp/.sandbox-tools</c>); outside the workspace.</summary>
    public string ToolsDirectory { get; set; } = "/tmp/.sandbox-tools";

    /// <summary>Command that starts Python (default <c>python3 -u</c>).</summary>
    public string PythonCommand { get; set; } = "python3 -u";

    /// <summary>Command that starts Node.js (default <c>node</c>).</summary>
    public string NodeCommand { get; set; } = "node";

    /// <summary>Timeout of a <c>run_code</c> call when the model gives none (default 30 s).</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest timeout the model may ask for (default 10 min).</summary>
    public TimeSpan MaxTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an interrupted interpreter may take to come back before it is killed and restarted (default 5 s).</summary>
    public TimeSpan InterruptGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An interpreter with no client attached for this long is killed by the service (default 15 min).</summary>
    public TimeSpan InterpreterDetachedTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Output one <c>run_code</c> call may produce before it is stopped (default 16 MiB): python/javascript are interrupted
    /// (state kept), bash is killed. Bounds what the client buffers for a runaway print loop.
    /// </summary>
    public long MaxOutputBytesPerCall { get; set; } = 16 * 1024 * 1024;

    /// <summary>Bytes of stdout/stderr kept from the start of the output (default 8 KiB).</summary>
    public int OutputHeadBytes { get; set; } = 8 * 1024;

    /// <summary>Bytes of stdout/stderr kept from the end of the output (default 8 KiB).</summary>
    public int OutputTailBytes { get; set; } = 8 * 1024;

    /// <summary>Report files created, changed or deleted in the workspace by each <c>run_code</c> call (default true).</summary>
    public bool TrackFileChanges { get; set; } = true;

    /// <summary>Workspace entries examined when tracking changes (default 5000).</summary>
    public int MaxTrackedFiles { get; set; } = 5000;

    /// <summary>File changes listed per call; the rest are counted (default 50).</summary>
    public int MaxReportedChanges { get; set; } = 50;

    /// <summary>Largest part of a file <c>read_file</c> returns in one call (default 256 KiB).</summary>
    public int MaxReadBytes { get; set; } = 256 * 1024;

    /// <summary>Largest content <c>write_file</c> accepts (default 10 MiB, after base64 decoding).</summary>
    public int MaxWriteBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Largest image returned to the model as <c>DataContent</c> (default 5 MiB).</summary>
    public int MaxImageBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>Images (plots) returned per <c>run_code</c> call (default 4).</summary>
    public int MaxImagesPerCall { get; set; } = 4;

    /// <summary>Entries <c>list_files</c> returns (default 500).</summary>
    public int ListFilesLimit { get; set; } = 500;

    /// <summary>How long <c>expose_port</c> waits for the port to accept connections and answer HTTP (default 30 s).</summary>
    public TimeSpan ExposePortTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Lifetime of the service URL <c>expose_port</c> mints (default 1 h).</summary>
    public TimeSpan ServiceUrlLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Wrap <c>expose_port</c> in an <c>ApprovalRequiredAIFunction</c>, so the host asks a human first (default false).</summary>
    public bool RequireApprovalForExposePort { get; set; }

    /// <summary>Record tool arguments and results on the spans (<c>gen_ai.tool.call.arguments</c>/<c>result</c>; default false).</summary>
    public bool CaptureContent { get; set; }

    /// <summary>
    /// Receives each <c>run_code</c> call's stdout/stderr as it arrives, while the call runs (default null: none). Opt-in
    /// for hosts that show output live; the tool's result is the same either way. Called on a background thread, one
    /// chunk at a time per call; exceptions it throws are logged at Debug and ignored. Not bound from configuration.
    /// </summary>
    public Action<ToolOutputChunk>? OnOutput { get; set; }

    /// <summary>
    /// Finds the conversation of a call when the tool set was created without a fixed conversation id (default null). Asked
    /// after an explicit id in <see cref="Microsoft.Extensions.AI.AIFunctionArguments.Context"/> under
    /// <see cref="SandboxTools.ConversationIdKey"/> and before the framework sources (agent session, chat options, Semantic
    /// Kernel chat history); return null to fall through to them. The id it returns is the affinity key: calls with the same id
    /// share one box, calls with different ids never do. Not bound from configuration.
    /// </summary>
    public Func<SandboxToolInvocation, string?>? ConversationResolver { get; set; }

    /// <summary>What a call does when no conversation can be determined (default <see cref="NoConversationBehavior.Refuse"/>).</summary>
    public NoConversationBehavior WhenNoConversation { get; set; } = NoConversationBehavior.Refuse;

    /// <summary>Tracing environment handed to code in the box.</summary>
    public SandboxTracingOptions Tracing { get; set; } = new();
}
