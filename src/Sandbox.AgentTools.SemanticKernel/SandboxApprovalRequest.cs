namespace Sandbox.AgentTools.SemanticKernel;

/// <summary>A call that needs a person's approval before it runs (see <see cref="SandboxKernelOptions.ApproveAsync"/>).</summary>
/// <param name="PluginName">The plugin (<c>sandbox</c> by default).</param>
/// <param name="FunctionName">The function (<c>expose_port</c>).</param>
/// <param name="ToolCallId">The model's call id.</param>
/// <param name="Arguments">The model's arguments, as Semantic Kernel parsed them.</param>
public sealed record SandboxApprovalRequest(string PluginName, string FunctionName, string? ToolCallId, IReadOnlyDictionary<string, object?> Arguments);
