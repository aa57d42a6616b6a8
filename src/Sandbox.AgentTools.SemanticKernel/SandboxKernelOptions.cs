namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>How the sandbox tools are exposed as a Semantic Kernel plugin.</summary>
public sealed class SandboxKernelOptions
{
    /// <summary>The default plugin name: the model sees <c>sandbox-run_code</c>, <c>sandbox-write_file</c>, ...</summary>
    public const string DefaultPluginName = "sandbox";

    /// <summary>The plugin name (default <see cref="DefaultPluginName"/>); the OpenAI connector exposes <c>{PluginName}-{function}</c>.</summary>
    public string PluginName { get; set; } = DefaultPluginName;

    /// <summary>
    /// What the model sees between the plugin name and the function name, used in descriptions, hints and notes: <c>-</c>
    /// (default) as the OpenAI connector names functions (<c>sandbox-run_code</c>); <c>_</c> when the kernel talks to the model
    /// through an <c>IChatClient</c> (<c>AsChatCompletionService()</c> / <c>UseKernelFunctionInvocation()</c>), which
    /// names them <c>sandbox_run_code</c>.
    /// </summary>
    public string FunctionNameSeparator { get; set; } = "-";

    /// <summary>The name the model sees for one of the plugin's functions.</summary>
    /// <param name="functionName">The function's own name (<c>run_code</c>).</param>
    /// <returns>E.g. <c>sandbox-run_code</c>.</returns>
    public string ModelName(string functionName) => PluginName + FunctionNameSeparator + functionName;

    /// <summary>The tools' limits and behaviour (conversation resolution, <see cref="SandboxToolOptions.RequireApprovalForExposePort"/>, ...).</summary>
    public SandboxToolOptions Tools { get; set; } = new();

    /// <summary>
    /// Asked before a function that needs approval runs (<c>expose_port</c> with <see cref="SandboxToolOptions.RequireApprovalForExposePort"/>);
    /// return true to let it run. When null, such calls are refused. Called by <see cref="SandboxKernelFilter"/>; without that
    /// filter registered on the kernel, such calls are refused too.
    /// </summary>
    public Func<SandboxApprovalRequest, CancellationToken, ValueTask<bool>>? ApproveAsync { get; set; }
}
