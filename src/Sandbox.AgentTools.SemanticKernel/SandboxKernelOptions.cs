namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>How the sandbox tools are exposed as a Semantic Kernel plugin.</summary>
public sealed class SandboxKernelOptions
{
    /// <summary>The default plugin name: the model sees <c>sandbox-run_code</c>, <c>sandbox-write_file</c>, ...</summary>
    public const string DefaultPluginName = "sandbox";

    /// <summary>The plugin name (default <see cref="DefaultPluginName"/>); the OpenAI connector exposes <c>{PluginName}-{function}</c>.</summary>
    public string PluginName { get; set; } = DefaultPluginName;

    /// <summary>The tools' limits and behaviour (conversation resolution, <see cref="SandboxToolOptions.RequireApprovalForExposePort"/>, ...).</summary>
    public SandboxToolOptions Tools { get; set; } = new();

    /// <summary>
    /// Asked before a function that needs approval runs (<c>expose_port</c> with <see cref="SandboxToolOptions.RequireApprovalForExposePort"/>);
    /// return true to let it run. When null, such calls are refused. Called by <see cref="SandboxKernelFilter"/>; without that
    /// filter registered on the kernel, such calls are refused too.
    /// </summary>
    public Func<SandboxApprovalRequest, CancellationToken, ValueTask<bool>>? ApproveAsync { get; set; }
}
